#!/usr/bin/env bash
# Make sure a MariaDB server answers on 127.0.0.1:3306 with root usable over TCP and an empty
# password, as the test suite expects. Installs and starts Debian's mariadb-server if nothing is
# listening. Idempotent: does nothing when the port already answers.
set -euo pipefail

HOST=127.0.0.1
PORT=3306

answers() {
    (exec 3<>"/dev/tcp/${HOST}/${PORT}") 2>/dev/null
}

die() {
    echo "ensure-mariadb: $*" >&2
    exit 1
}

if answers; then
    exit 0
fi

echo "ensure-mariadb: nothing answers on ${HOST}:${PORT}; installing and starting MariaDB" >&2
[ "$(id -u)" -eq 0 ] || die "not root: start MariaDB yourself, or run this script as root"
command -v apt-get >/dev/null || die "no apt-get: this script only knows how to install on Debian"

if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y mariadb-server
fi

if ! service mariadb start; then
    echo "ensure-mariadb: 'service mariadb start' failed; starting mariadbd directly" >&2
    mkdir -p /run/mysqld
    chown mysql:mysql /run/mysqld
    start-stop-daemon --start --oknodo --background \
        --exec /usr/sbin/mariadbd -- --user=mysql
fi

for _ in $(seq 1 60); do
    if answers; then
        break
    fi
    sleep 1
done
answers || die "MariaDB did not start listening on ${HOST}:${PORT} within 60 s"

# Debian's root uses unix_socket auth only; the tests connect over TCP with an empty password.
mariadb -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket; FLUSH PRIVILEGES;" \
    || die "could not let root log in over TCP with an empty password"
echo "ensure-mariadb: MariaDB is up on ${HOST}:${PORT}" >&2
