{{
    config(
        materialized='incremental',
        unique_key='order_item_id'
    )
}}

select
    order_item_id,
    order_id,
    customer_id,
    product_id,
    category_id,
    warehouse_id,
    order_ts,
    order_date,
    quantity,
    unit_price_inr,
    gross_amount_inr,
    discount_inr,
    net_amount_inr,
    gst_rate,
    gst_amount_inr,
    net_amount_ex_gst_inr,
    cogs_inr,
    gross_margin_inr
from {{ ref('int_order_items_enriched') }}

{% if is_incremental() %}
-- only lines of orders placed since the last run
where order_ts > (select max(order_ts) from {{ this }})
{% endif %}
