with source as (

    select * from {{ source('raw', 'customers') }}

),

renamed as (

    select
        customer_id,
        trim(first_name) as first_name,
        trim(last_name) as last_name,
        trim(first_name) || ' ' || trim(last_name) as full_name,
        lower(trim(email)) as email,
        -- the CRM stores "+91 98765 43210" and "+919876543210"
        regexp_replace(phone, '[^0-9+]', '', 'g') as phone,
        trim(city) as city,
        trim(state) as state,
        pincode,
        signup_date,
        lower(acquisition_channel) as acquisition_channel,
        lower(segment_hint) as segment_hint,
        _loaded_at
    from source

)

select * from renamed
