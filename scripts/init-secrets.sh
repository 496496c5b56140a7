#!/usr/bin/env sh
# Creates the compose stack's secrets once: a random KEY_HASH_PEPPER and BOOTSTRAP_TOKEN in .env (or the
# file given), readable by its owner only. It never overwrites: the database records the pepper's
# fingerprint, and the service refuses to start with another pepper (every key would stop verifying).
set -eu
file=${1:-"$(dirname "$0")/../.env"}

if [ -e "$file" ]; then
  echo "init-secrets: $file exists; keep it (a new KEY_HASH_PEPPER would lock every key out). To start over, remove the database volume too: docker compose down --volumes" >&2
  exit 1
fi

# URL-safe base64 of /dev/urandom bytes: nothing in it needs quoting in an env file.
random() {
  head -c "$1" /dev/urandom | base64 | tr -d '\n=' | tr '+/' '-_'
}

umask 077
set -C # the redirect below fails rather than overwrite a file created meanwhile
{
  echo "# Created by scripts/init-secrets.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ). Keep it, and back it up with the database:"
  echo "# the pepper keys every stored key hash, and a different one makes every key invalid."
  echo "KEY_HASH_PEPPER=$(random 48)"
  echo "# Lets Bootstrap create the first super-user key (it refuses once one exists)."
  echo "BOOTSTRAP_TOKEN=$(random 24)"
} >"$file"
echo "init-secrets: wrote $file"
