#!/bin/sh
# Runs Microsoft's SCIM reference Postman collection (the user and group
# folders) with newman against a fresh `roster serve` on a loopback port.
#
#   DATABASE_URL=postgres://.../an_empty_database scripts/scim-reference.sh [PostmanCollection.json]
#
# Needs Go, curl, newman (npm install -g newman) and, with EMPTY_DIRECTORY=1,
# psql. The collection assumes users may share an email address, so the
# tenant's unique_email policy is turned off; it also assumes an empty
# directory, which a tenant never is (its first admin is a user):
# EMPTY_DIRECTORY=1 deletes that admin from the throwaway database, so that
# the collection's counts hold. Where the collection contradicts RFC 7643 or
# 7644 it fails, and should.
set -eu
: "${DATABASE_URL:?set DATABASE_URL to an empty database, which this run fills}"
collection=${1:-../shared/peers/scim-reference/PostmanCollection.json}
port=${PORT:-18480}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT INT TERM

go build -o "$work/roster" ./cmd/roster
"$work/roster" migrate >/dev/null
tenant=$("$work/roster" tenant create --name "SCIM reference" --admin-email admin@scim-reference.example --json)
field() { printf '%s' "$tenant" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

ROSTER_ADDR=127.0.0.1:$port "$work/roster" serve >"$work/serve.log" 2>&1 &
pid=$!
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.2; done

curl -sf -X PUT "http://127.0.0.1:$port/api/v1/tenant/security-policy" \
  -H "Authorization: Bearer $(field admin_token)" -H 'Content-Type: application/json' \
  -d '{"mfa_required":false,"allowed_methods":["totp","sms","email","passkey"],
       "password":{"min_length":12,"reject_common":true},
       "lockout":{"max_attempts":10,"duration_minutes":15},
       "session":{"access_token_minutes":15,"refresh_token_days":30},"unique_email":false}' >/dev/null
if [ "${EMPTY_DIRECTORY:-}" = 1 ]; then
  psql -q "$DATABASE_URL" -c "DELETE FROM users WHERE id = '$(field admin_user_id)'"
fi

newman run "$collection" \
  --folder "Endpoint tests" --folder "User tests" --folder "Group tests" \
  --folder "ComplexAttribute tests" --folder "User tests with garbage" \
  --folder "Group tests with garbage" --folder "Teardown garbage" \
  --env-var Protocol=http --env-var Server=127.0.0.1 --env-var Port=":$port" \
  --env-var Api=scim/v2 --env-var token="$(field scim_token)"
