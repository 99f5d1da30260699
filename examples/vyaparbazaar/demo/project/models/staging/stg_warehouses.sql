select
    warehouse_id,
    upper(code) as warehouse_code,
    trim(name) as warehouse_name,
    trim(city) as city,
    trim(state) as state,
    pincode,
    opened_on,
    _loaded_at
from {{ source('raw', 'warehouses') }}
