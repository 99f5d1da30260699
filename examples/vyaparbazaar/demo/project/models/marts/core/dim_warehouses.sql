select
    w.warehouse_id,
    w.warehouse_code,
    w.warehouse_name,
    w.city,
    w.state,
    r.region,
    r.zone,
    w.pincode,
    w.opened_on
from {{ ref('stg_warehouses') }} as w
left join {{ ref('state_regions') }} as r on r.state = w.state
