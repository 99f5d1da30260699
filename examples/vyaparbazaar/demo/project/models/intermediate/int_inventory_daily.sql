{#- Net stock movement per fulfilment centre, product and day (only days
    with movements). -#}
select
    warehouse_id,
    product_id,
    movement_date,
    sum(case when movement_type = 'receipt' then quantity else 0 end) as units_received,
    sum(case when movement_type = 'sale' then -quantity else 0 end) as units_sold,
    sum(case when movement_type = 'return' then quantity else 0 end) as units_returned,
    sum(case when movement_type = 'adjustment' then quantity else 0 end) as units_adjusted,
    sum(quantity) as net_change
from {{ ref('stg_inventory_movements') }}
group by warehouse_id, product_id, movement_date
