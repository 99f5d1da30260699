with customers as (

    select * from {{ ref('stg_customers') }}

),

regions as (

    select * from {{ ref('state_regions') }}

),

orders as (

    select * from {{ ref('int_customer_orders') }}

)

select
    c.customer_id,
    c.full_name,
    c.first_name,
    c.last_name,
    c.email,
    c.phone,
    c.city,
    c.state,
    r.state_code,
    r.region,
    r.zone,
    c.pincode,
    c.signup_date,
    c.acquisition_channel,
    c.segment_hint,
    o.first_order_date,
    o.last_order_date,
    coalesce(o.lifetime_orders, 0) as lifetime_orders,
    coalesce(o.lifetime_net_inr, 0) as lifetime_value_inr,
    case
        when o.customer_id is null then 'prospect'
        when o.last_order_date >= date '{{ var("as_of_date") }}' - {{ var('active_customer_days') }} then 'active'
        else 'lapsed'
    end as lifecycle_stage
from customers as c
left join regions as r on r.state = c.state
left join orders as o on o.customer_id = c.customer_id
