with orders as (

    select * from {{ ref('int_orders_with_payments') }}

),

items as (

    select
        order_id,
        count(*) as item_lines,
        sum(quantity) as units,
        sum(gross_amount_inr) as gross_amount_inr,
        sum(discount_inr) as discount_inr,
        sum(net_amount_inr) as net_item_amount_inr,
        sum(gst_amount_inr) as gst_amount_inr,
        sum(cogs_inr) as cogs_inr
    from {{ ref('int_order_items_enriched') }}
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
    o.warehouse_id,
    o.campaign_id,
    o.coupon_code,
    i.item_lines,
    i.units,
    i.gross_amount_inr,
    i.discount_inr,
    i.net_item_amount_inr,
    o.shipping_fee_inr,
    o.order_total_inr,
    i.gst_amount_inr,
    i.cogs_inr,
    o.amount_paid_inr,
    o.amount_refunded_inr,
    o.failed_payment_attempts,
    o.customer_order_number,
    o.customer_order_number = 1 as is_first_order,
    o.status = 'cancelled' as is_cancelled,
    o.status = 'returned' as is_returned,
    o.status in ('delivered', 'returned') as is_delivered,
    o.shipped_at,
    o.delivered_at,
    date_diff('day', o.order_date, cast(o.delivered_at as date)) as delivery_days
from orders as o
inner join items as i on i.order_id = o.order_id
