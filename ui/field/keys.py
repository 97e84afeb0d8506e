"""Session-state keys of the field-report UI, in one place."""

SUBMISSION_ID = "field_submission_id"  # the open form's client-made id (kept across retries)
LOCATION = "field_location"  # (lon, lat, source) picked by map tap or geolocation
LAST_TAP = "field_last_tap"  # the last map click already applied
LAST_GEO = "field_last_geo"  # the last geolocation answer already applied
CATEGORY = "field_category"
URGENCY = "field_urgency"
DESCRIPTION = "field_description"
PHOTOS = "field_photos"
FORM_MAP = "field_form_map"
GEOLOCATE = "field_geolocate"
SUBMITTED = "field_submitted"  # report id of the last successful submit (message)

QUEUE_STATES = "field_queue_states"
QUEUE_CATEGORIES = "field_queue_categories"
QUEUE_AREA = "field_queue_area"
QUEUE_DAYS = "field_queue_days"
QUEUE_PICK = "field_queue_pick"
QUEUE_MAP = "field_queue_map"
STEP_NOTE = "field_step_note"
STEP_PHOTO = "field_step_photo"
STEP_ASSIGNEE = "field_step_assignee"
STEP_DUPLICATE = "field_step_duplicate"

PROGRESS_LEVEL = "field_progress_level"
PROGRESS_PERIOD = "field_progress_period"
PROGRESS_MAP = "field_progress_map"
