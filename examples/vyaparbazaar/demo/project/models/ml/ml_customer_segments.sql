{#- RFM features and segments for every customer with an order that was
    not cancelled (data-science, weekly). Scores are quintiles, 5 best:
    recency (fewer days since the last order is better), frequency (orders)
    and monetary (order value less refunds). Ties are broken by customer_id
    so the scores are reproducible. -#}
{% set as_of = var('as_of_date') %}

with history as (

    select * from {{ ref('int_customer_orders') }}

),

customers as (

    select customer_id, region, segment_hint, acquisition_channel
    from {{ ref('dim_customers') }}

),

payment_preference as (

    select
        customer_id,
        payment_method,
        row_number() over (
            partition by customer_id
            order by count(*) desc, payment_method
        ) as preference_rank
    from {{ ref('fct_orders') }}
    where not is_cancelled
    group by customer_id, payment_method

),

rfm as (

    select
        customer_id,
        date_diff('day', last_order_date, date '{{ as_of }}') as recency_days,
        lifetime_orders as frequency,
        lifetime_net_inr as monetary_inr,
        {{ inr(safe_divide('lifetime_net_inr', 'lifetime_orders')) }} as avg_order_value_inr,
        date_diff('day', first_order_date, date '{{ as_of }}') as tenure_days,
        {{ safe_divide('returned_orders', 'lifetime_orders') }} as return_rate,
        first_order_date,
        last_order_date
    from history

),

scored as (

    select
        *,
        ntile(5) over (order by recency_days desc, customer_id) as r_score,
        ntile(5) over (order by frequency, customer_id) as f_score,
        ntile(5) over (order by monetary_inr, customer_id) as m_score
    from rfm

)

select
    s.customer_id,
    c.region,
    c.segment_hint,
    c.acquisition_channel,
    pp.payment_method as preferred_payment_method,
    s.first_order_date,
    s.last_order_date,
    s.recency_days,
    s.frequency,
    s.monetary_inr,
    s.avg_order_value_inr,
    s.tenure_days,
    s.return_rate,
    s.r_score,
    s.f_score,
    s.m_score,
    cast(s.r_score as varchar) || cast(s.f_score as varchar) || cast(s.m_score as varchar) as rfm_cell,
    case
        when s.tenure_days <= {{ var('new_customer_days') }} then 'New'
        when s.r_score >= 4 and s.f_score >= 4 and s.m_score >= 4 then 'Champions'
        when s.r_score >= 3 and s.f_score >= 4 then 'Loyal'
        when s.r_score >= 4 and s.f_score <= 2 then 'Potential Loyalists'
        when s.r_score <= 2 and s.f_score >= 3 then 'At Risk'
        when s.r_score <= 2 then 'Hibernating'
        else 'Needs Attention'
    end as segment
from scored as s
inner join customers as c on c.customer_id = s.customer_id
left join payment_preference as pp
    on pp.customer_id = s.customer_id
    and pp.preference_rank = 1
