{#- Orders with what was collected and refunded for them, and each order's
    sequence number in its customer's history. -#}
with orders as (

    select * from {{ ref('stg_orders') }}

),

payments as (

    select
        order_id,
        sum(case when payment_status = 'success' then amount_inr else 0 end) as amount_paid_inr,
        sum(case when payment_status = 'refunded' then amount_inr else 0 end) as amount_refunded_inr,
        count(case when payment_status = 'failed' then 1 end) as failed_payment_attempts,
        min(case when payment_status = 'success' then paid_at end) as paid_at
    from {{ ref('stg_payments') }}
    group by order_id

)

select
    o.order_id,
    o.customer_id,
    o.order_ts,
    o.order_date,
    o.status,
    o.channel,
    o.payment_method,
    o.ship_city,
    o.ship_state,
    o.ship_pincode,
    o.warehouse_id,
    o.campaign_id,
    o.coupon_code,
    o.shipping_fee_inr,
    o.order_total_inr,
    o.shipped_at,
    o.delivered_at,
    o.cancelled_at,
    coalesce(p.amount_paid_inr, 0) as amount_paid_inr,
    coalesce(p.amount_refunded_inr, 0) as amount_refunded_inr,
    coalesce(p.failed_payment_attempts, 0) as failed_payment_attempts,
    p.paid_at,
    row_number() over (
        partition by o.customer_id
        order by o.order_ts, o.order_id
    ) as customer_order_number
from orders as o
left join payments as p on p.order_id = o.order_id
