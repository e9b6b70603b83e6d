-- One row per product review (review_id): its latest delivery.
with

source as (
    select * from {{ source('raw', 'reviews') }}
),

renamed as (
    select
        trim(review_id) as review_id,
        {{ clean_identifier('crm_id') }} as crm_id,
        {{ clean_identifier('user_id') }} as user_id,
        {{ clean_text('email') }} as email,
        {{ normalize_email('email') }} as email_normalized,
        trim(product_id) as product_id,
        {{ to_integer('rating') }} as rating,
        {{ clean_text('title') }} as title,
        {{ clean_text('text') }} as review_text,
        lower({{ clean_text('language') }}) as language,
        {{ parse_iso_timestamp('created_at') }} as created_at,
        {{ iso_utc_offset_minutes('created_at') }} as created_at_utc_offset_minutes,
        _extra as extra,
        _file,
        _line,
        _partition,
        _loaded_at
    from source
),

deduplicated as (
    select
        *,
        count(*) over (partition by review_id) as delivery_count
    from renamed
    qualify
        row_number() over (
            partition by review_id
            order by _partition desc, _file desc, _line desc
        ) = 1
)

select * from deduplicated
