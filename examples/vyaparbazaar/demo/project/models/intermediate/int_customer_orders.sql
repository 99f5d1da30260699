{{ config(materialized='ephemeral') }}

{#- One row per customer who has at least one order that was not
    cancelled: how often, how recently and how much they buy. -#}
select
    customer_id,
    count(*) as lifetime_orders,
    count(case when status = 'returned' then 1 end) as returned_orders,
    min(order_date) as first_order_date,
    max(order_date) as last_order_date,
    {{ inr('sum(order_total_inr)') }} as lifetime_gross_inr,
    {{ inr('sum(order_total_inr - amount_refunded_inr)') }} as lifetime_net_inr
from {{ ref('int_orders_with_payments') }}
where status <> 'cancelled'
group by customer_id
