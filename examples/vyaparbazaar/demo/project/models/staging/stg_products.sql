with source as (

    select * from {{ source('raw', 'products') }}

)

select
    product_id,
    upper(sku) as sku,
    trim(name) as product_name,
    category_id,
    trim(brand) as brand,
    {{ inr('mrp_inr') }} as mrp_inr,
    {{ inr('selling_price_inr') }} as selling_price_inr,
    {{ inr('cost_inr') }} as cost_inr,
    gst_rate,
    launched_at as launched_on,
    is_active,
    _loaded_at
from source
