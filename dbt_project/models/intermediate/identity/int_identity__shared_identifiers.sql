-- One row per device or browser identifier (device_id, anonymous_id) that several
-- logged-in users share: seen in the same records as more than
-- var('identity_max_users_per_device') distinct user ids (a family tablet, a shop-floor
-- kiosk). Such an identifier links none of its users: every pair it would assert is
-- dropped before the edges are drawn (int_identity__edges), so the users stay apart.
--
-- A user id renamed by an alias call (previousId known as a user id) is one user: user ids
-- joined by an alias count once.
with

usable as (
    select * from {{ ref('int_identity__usable_observations') }}
),

renamed_user_ids as (
    -- alias records that carry two user ids: the earlier one is the renamed user's root
    select
        identifier_value as user_id,
        min(identifier_value) over (partition by source, record_id) as root_user_id
    from usable
    where source = 'events.alias' and identifier_type = 'user_id'
),

user_roots as (
    select
        user_id,
        min(root_user_id) as root_user_id
    from renamed_user_ids
    group by user_id
),

device_users as (
    select
        device.identifier_type,
        device.identifier_type || ':' || device.identifier_value as identifier_key,
        coalesce(user_roots.root_user_id, users.identifier_value) as user_root,
        device.record_id
    from usable as device
    inner join usable as users
        on
            device.source = users.source
            and device.record_id = users.record_id
            and users.identifier_type = 'user_id'
    left join user_roots
        on users.identifier_value = user_roots.user_id
    where device.identifier_type in ('device_id', 'anonymous_id')
),

shared as (
    select
        identifier_key,
        identifier_type,
        count(distinct user_root) as user_count,
        count(distinct record_id) as record_count
    from device_users
    group by identifier_key, identifier_type
    having count(distinct user_root) > {{ var('identity_max_users_per_device') }}
)

select * from shared
