with products as (

    select * from {{ ref('stg_products') }}

),

categories as (

    select * from {{ ref('stg_categories') }}

)

select
    p.product_id,
    p.sku,
    p.product_name,
    p.brand,
    p.category_id,
    c.category_name,
    coalesce(pc.category_name, c.category_name) as parent_category_name,
    p.mrp_inr,
    p.selling_price_inr,
    p.cost_inr,
    p.gst_rate,
    {{ safe_divide('p.mrp_inr - p.selling_price_inr', 'p.mrp_inr') }} as list_discount_pct,
    {{ safe_divide('p.selling_price_inr / (1 + p.gst_rate / 100) - p.cost_inr', 'p.selling_price_inr / (1 + p.gst_rate / 100)') }} as list_margin_pct,
    p.launched_on,
    p.is_active
from products as p
inner join categories as c on c.category_id = p.category_id
left join categories as pc on pc.category_id = c.parent_category_id
