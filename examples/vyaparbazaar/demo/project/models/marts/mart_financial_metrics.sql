{#- Monthly financial metrics (finance-analytics, at month end). Revenue is
    booked in the month of the order (orders not cancelled), refunds in the
    month of the return, and the payment mix on captured payments. -#}
{% set payment_methods = var('payment_methods') %}

with months as (

    select distinct month_start, month_end, fiscal_year, fiscal_quarter
    from {{ ref('dim_dates') }}

),

orders as (

    select
        cast(date_trunc('month', order_date) as date) as month_start,
        count(*) as orders,
        sum(gross_amount_inr) as gross_revenue_inr,
        sum(discount_inr) as discounts_inr,
        sum(net_item_amount_inr) as net_sales_inr,
        sum(shipping_fee_inr) as shipping_revenue_inr,
        sum(gst_amount_inr) as gst_collected_inr,
        sum(cogs_inr) as cogs_inr
    from {{ ref('fct_orders') }}
    where not is_cancelled
    group by 1

),

refunds as (

    select
        cast(date_trunc('month', return_date) as date) as month_start,
        count(*) as returned_items,
        sum(refund_amount_inr) as refunds_inr
    from {{ ref('fct_returns') }}
    group by 1

),

payments as (

    select
        cast(date_trunc('month', paid_date) as date) as month_start,
        sum(amount_inr) as captured_inr,
        {%- for method in payment_methods %}
        sum(case when payment_method = '{{ method }}' then amount_inr else 0 end) as {{ method }}_captured_inr{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('fct_payments') }}
    where payment_status = 'success'
    group by 1

),

combined as (

    select
        m.month_start,
        m.month_end,
        m.fiscal_year,
        m.fiscal_quarter,
        o.orders,
        o.gross_revenue_inr,
        o.discounts_inr,
        o.net_sales_inr,
        o.shipping_revenue_inr,
        o.gst_collected_inr,
        coalesce(r.refunds_inr, 0) as refunds_inr,
        coalesce(r.returned_items, 0) as returned_items,
        o.cogs_inr,
        p.captured_inr,
        {%- for method in payment_methods %}
        p.{{ method }}_captured_inr,
        {%- endfor %}
        -- net revenue: sales and shipping, less GST passed to the government, less refunds
        o.net_sales_inr + o.shipping_revenue_inr - o.gst_collected_inr - coalesce(r.refunds_inr, 0) as net_revenue_inr
    from months as m
    inner join orders as o on o.month_start = m.month_start
    left join refunds as r on r.month_start = m.month_start
    left join payments as p on p.month_start = m.month_start

)

select
    month_start,
    month_end,
    fiscal_year,
    fiscal_quarter,
    month_end <= date '{{ var("as_of_date") }}' as is_month_closed,
    orders,
    {{ inr('gross_revenue_inr') }} as gross_revenue_inr,
    {{ inr('discounts_inr') }} as discounts_inr,
    {{ inr('net_sales_inr') }} as net_sales_inr,
    {{ inr('shipping_revenue_inr') }} as shipping_revenue_inr,
    {{ inr('gst_collected_inr') }} as gst_collected_inr,
    {{ inr('refunds_inr') }} as refunds_inr,
    returned_items,
    {{ inr('net_revenue_inr') }} as net_revenue_inr,
    {{ inr('cogs_inr') }} as cogs_inr,
    {{ inr('net_revenue_inr - cogs_inr') }} as gross_margin_inr,
    {{ safe_divide('net_revenue_inr - cogs_inr', 'net_revenue_inr') }} as gross_margin_pct,
    {{ inr(safe_divide('net_sales_inr + shipping_revenue_inr', 'orders')) }} as avg_order_value_inr,
    {%- for method in payment_methods %}
    {{ safe_divide(method ~ '_captured_inr', 'captured_inr') }} as {{ method }}_share,
    {%- endfor %}
    '{{ var("currency") }}' as currency
from combined
