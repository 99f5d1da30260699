{#- Inventory status (supply-chain, hourly, critical). One row per
    fulfilment centre and product: stock on hand, recent sales velocity,
    days of cover and whether to reorder. -#}
{% set window_days = var('recent_sales_days') %}

with daily as (

    select * from {{ ref('int_inventory_daily') }}

),

as_of as (

    select max(movement_date) as as_of_date from daily

),

stock as (

    select
        d.warehouse_id,
        d.product_id,
        sum(d.net_change) as on_hand_units,
        sum(case when d.movement_date > a.as_of_date - {{ window_days }} then d.units_sold else 0 end) as units_sold_recent,
        sum(d.units_sold) as units_sold_total,
        max(case when d.units_received > 0 then d.movement_date end) as last_receipt_date,
        max(case when d.units_sold > 0 then d.movement_date end) as last_sale_date,
        max(a.as_of_date) as as_of_date
    from daily as d
    cross join as_of as a
    group by d.warehouse_id, d.product_id

),

velocity as (

    select
        *,
        units_sold_recent / {{ window_days }}.0 as avg_daily_units_sold
    from stock

),

covered as (

    select
        *,
        case
            when avg_daily_units_sold > 0 then round(greatest(on_hand_units, 0) / avg_daily_units_sold, 1)
        end as days_of_cover
    from velocity

)

select
    w.warehouse_code || ':' || p.sku as stock_key,
    c.warehouse_id,
    w.warehouse_code,
    w.warehouse_name,
    c.product_id,
    p.sku,
    p.product_name,
    p.category_name,
    p.parent_category_name,
    c.as_of_date,
    c.on_hand_units,
    c.units_sold_recent,
    round(c.avg_daily_units_sold, 3) as avg_daily_units_sold,
    c.days_of_cover,
    c.last_receipt_date,
    c.last_sale_date,
    case
        when c.on_hand_units <= 0 then 'out_of_stock'
        when c.days_of_cover < {{ var('reorder_cover_days') }} then 'reorder'
        when c.days_of_cover is null then 'no_recent_sales'
        when c.days_of_cover > {{ var('overstock_cover_days') }} then 'overstock'
        else 'healthy'
    end as stock_status,
    c.on_hand_units <= 0 or coalesce(c.days_of_cover < {{ var('reorder_cover_days') }}, false) as reorder_flag,
    case
        when c.on_hand_units <= 0 or coalesce(c.days_of_cover < {{ var('reorder_cover_days') }}, false)
            then cast(ceil(greatest(c.avg_daily_units_sold * 2 * {{ var('reorder_cover_days') }} - greatest(c.on_hand_units, 0), 1)) as integer)
        else 0
    end as suggested_reorder_units,
    {{ inr('greatest(c.on_hand_units, 0) * p.cost_inr') }} as stock_value_at_cost_inr
from covered as c
inner join {{ ref('dim_warehouses') }} as w on w.warehouse_id = c.warehouse_id
inner join {{ ref('dim_products') }} as p on p.product_id = c.product_id
