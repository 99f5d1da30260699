with source as (

    select * from {{ source('raw', 'categories') }}

)

select
    category_id,
    trim(name) as category_name,
    parent_category_id,
    parent_category_id is null as is_top_level,
    _loaded_at
from source
