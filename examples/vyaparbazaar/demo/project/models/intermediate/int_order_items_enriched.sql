{#- Order lines with their order, product and category, and the GST, cost
    and margin of each line. GST is contained in the (GST-inclusive) price. -#}
with items as (

    select * from {{ ref('stg_order_items') }}

),

orders as (

    select order_id, customer_id, order_ts, order_date, status, warehouse_id
    from {{ ref('stg_orders') }}

),

products as (

    select product_id, category_id, brand, cost_inr, gst_rate
    from {{ ref('stg_products') }}

),

categories as (

    select
        c.category_id,
        c.category_name,
        coalesce(p.category_name, c.category_name) as parent_category_name
    from {{ ref('stg_categories') }} as c
    left join {{ ref('stg_categories') }} as p
        on p.category_id = c.parent_category_id

),

joined as (

    select
        i.order_item_id,
        i.order_id,
        o.customer_id,
        o.order_ts,
        o.order_date,
        o.status as order_status,
        o.warehouse_id,
        i.product_id,
        p.category_id,
        c.category_name,
        c.parent_category_name,
        p.brand,
        i.quantity,
        i.unit_price_inr,
        i.gross_amount_inr,
        i.discount_inr,
        i.net_amount_inr,
        p.gst_rate,
        {{ gst_amount('i.net_amount_inr', 'p.gst_rate') }} as gst_amount_inr,
        {{ inr('p.cost_inr * i.quantity') }} as cogs_inr
    from items as i
    inner join orders as o on o.order_id = i.order_id
    inner join products as p on p.product_id = i.product_id
    inner join categories as c on c.category_id = p.category_id

)

select
    *,
    net_amount_inr - gst_amount_inr as net_amount_ex_gst_inr,
    net_amount_inr - gst_amount_inr - cogs_inr as gross_margin_inr
from joined
