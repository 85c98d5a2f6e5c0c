# Mapping helpers written in jq; the native ones are in functions.rs. Documented in docs/mapping.md.

def url_encode: @uri;
def url_decode: @urid;
def base64url_encode: @base64url;
def base64url_decode: @base64urld;

# Dates: `parse_date` reads RFC 3339 / ISO 8601 (any offset, optional fraction), RFC 2822 and
# plain YYYY-MM-DD into Unix seconds; numbers pass through. With a format, strptime's.
def parse_date($fmt): strptime($fmt) | mktime;
def format_date($fmt): (if type == "string" then parse_date else . end) | floor | strftime($fmt);
def to_rfc3339: format_date("%Y-%m-%dT%H:%M:%SZ");
