{#- Daily sales report (finance-analytics, 06:00 daily). One row per day
    from the first to the last order date, days without orders included.
    Revenue counts orders that were not cancelled; refunds of returned
    orders are deducted on the order date. -#}
{% set payment_methods = var('payment_methods') %}

with orders as (

    select * from {{ ref('fct_orders') }}

),

bounds as (

    select min(order_date) as first_day, max(order_date) as last_day
    from orders

),

days as (

    select d.date_day, d.day_name, d.is_weekend
    from {{ ref('dim_dates') }} as d
    inner join bounds as b on d.date_day between b.first_day and b.last_day

),

daily as (

    select
        order_date,
        count(*) as orders_placed,
        count(case when not is_cancelled then 1 end) as orders,
        count(case when is_cancelled then 1 end) as cancelled_orders,
        count(case when is_returned then 1 end) as returned_orders,
        count(case when is_first_order and not is_cancelled then 1 end) as new_customer_orders,
        sum(case when not is_cancelled then item_lines else 0 end) as items,
        sum(case when not is_cancelled then units else 0 end) as units,
        sum(case when not is_cancelled then gross_amount_inr else 0 end) as gross_revenue_inr,
        sum(case when not is_cancelled then discount_inr else 0 end) as discounts_inr,
        sum(case when not is_cancelled then order_total_inr else 0 end) as order_value_inr,
        sum(case when is_returned then amount_refunded_inr else 0 end) as refunds_inr,
        {%- for method in payment_methods %}
        sum(case when not is_cancelled and payment_method = '{{ method }}' then order_total_inr else 0 end) as {{ method }}_revenue_inr,
        {%- endfor %}
        sum(case when is_cancelled then order_total_inr else 0 end) as cancelled_value_inr
    from orders
    group by order_date

)

select
    d.date_day as order_date,
    d.day_name,
    d.is_weekend,
    coalesce(s.orders_placed, 0) as orders_placed,
    coalesce(s.orders, 0) as orders,
    coalesce(s.items, 0) as items,
    coalesce(s.units, 0) as units,
    {{ inr('coalesce(s.gross_revenue_inr, 0)') }} as gross_revenue_inr,
    {{ inr('coalesce(s.discounts_inr, 0)') }} as discounts_inr,
    {{ inr('coalesce(s.order_value_inr, 0)') }} as order_value_inr,
    {{ inr('coalesce(s.refunds_inr, 0)') }} as refunds_inr,
    {{ inr('coalesce(s.order_value_inr, 0) - coalesce(s.refunds_inr, 0)') }} as net_revenue_inr,
    {{ inr(safe_divide('s.order_value_inr - s.refunds_inr', 's.orders')) }} as avg_order_value_inr,
    coalesce(s.cancelled_orders, 0) as cancelled_orders,
    {{ inr('coalesce(s.cancelled_value_inr, 0)') }} as cancelled_value_inr,
    coalesce(s.returned_orders, 0) as returned_orders,
    coalesce(s.new_customer_orders, 0) as new_customer_orders,
    {%- for method in payment_methods %}
    {{ inr('coalesce(s.' ~ method ~ '_revenue_inr, 0)') }} as {{ method }}_revenue_inr,
    {%- endfor %}
    '{{ var("currency") }}' as currency
from days as d
left join daily as s on s.order_date = d.date_day
