with source as (

    select * from {{ source('raw', 'orders') }}

),

renamed as (

    select
        order_id,
        customer_id,
        order_ts,
        cast(order_ts as date) as order_date,
        lower(status) as status,
        lower(channel) as channel,
        -- the storefront writes UPI and COD in capitals
        lower(payment_method) as payment_method,
        trim(ship_city) as ship_city,
        trim(ship_state) as ship_state,
        ship_pincode,
        warehouse_id,
        campaign_id,
        upper(coupon_code) as coupon_code,
        {{ inr('shipping_fee_inr') }} as shipping_fee_inr,
        {{ inr('order_total_inr') }} as order_total_inr,
        shipped_at,
        delivered_at,
        cancelled_at,
        updated_at,
        _loaded_at
    from source

)

select * from renamed
