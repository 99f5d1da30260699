select
    r.return_id,
    r.order_id,
    r.order_item_id,
    o.customer_id,
    i.product_id,
    p.category_id,
    r.return_reason,
    r.item_condition,
    r.quantity,
    r.returned_at,
    r.return_date,
    r.refund_amount_inr,
    date_diff('day', cast(o.delivered_at as date), r.return_date) as days_since_delivery
from {{ ref('stg_returns') }} as r
inner join {{ ref('stg_order_items') }} as i on i.order_item_id = r.order_item_id
inner join {{ ref('stg_orders') }} as o on o.order_id = r.order_id
inner join {{ ref('stg_products') }} as p on p.product_id = i.product_id
