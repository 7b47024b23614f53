#!/bin/sh
# Makes the secrets of the compose stack (docker-compose.yml) in deploy/compose/secrets/, which git
# and the image's build context ignore: the gateways' JWT secret and the DIS SK that both the
# gateways and the emulator use (the emulator is the stack's DIS, so its SK is the DIS SK).
# Run it once before `docker compose up`. A file that exists is kept, so tokens minted earlier stay
# valid; delete a file to get a new value. Prints file names only, never a value.
set -eu

dir="$(cd "$(dirname "$0")/.." && pwd)/deploy/compose/secrets"
mkdir -p "$dir"
chmod 700 "$dir"
# Files created from here on are readable by their owner only.
umask 077

random_secret() {
  # 48 random bytes as base64 without padding or newlines: 64 characters, well above HS256's 32
  # bytes, and nothing the gateway's placeholder check or comma-separated secret lists would trip on.
  if command -v openssl >/dev/null 2>&1; then
    openssl rand -base64 48 | tr -d '\n='
  else
    head -c 48 /dev/urandom | base64 | tr -d '\n='
  fi
}

for name in jwt-secret dis-sk; do
  file="$dir/$name"
  if [ -s "$file" ]; then
    echo "compose-secrets: kept $file"
  else
    random_secret >"$file"
    echo "compose-secrets: wrote $file"
  fi
  chmod 600 "$file"
done

# The containers run as UID 1000 (the image's node user) and compose bind-mounts these files with
# their host owner and mode, so the owner must be 1000 for a 0600 file to be readable inside.
if [ "$(id -u)" = 0 ]; then
  chown 1000:1000 "$dir"/jwt-secret "$dir"/dis-sk
elif [ "$(id -u)" != 1000 ] && [ "$(uname -s)" = Linux ]; then
  echo "compose-secrets: note: the containers run as UID 1000 and cannot read files owned by UID $(id -u) with mode 0600;" >&2
  echo "compose-secrets:       run: sudo chown 1000:1000 $dir/jwt-secret $dir/dis-sk" >&2
fi
