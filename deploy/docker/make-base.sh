#!/usr/bin/env bash
# Make a local base image when no container registry is reachable (this project's CI and
# build machine reach only PyPI, Debian and npm). It is a Debian bookworm root file system
# with Python 3.11 from Debian, imported into podman (or docker) as $BASE_TAG:
#
#   sudo deploy/docker/make-base.sh            # -> localhost/ocop-base:bookworm
#   podman build --build-arg BASE_IMAGE=localhost/ocop-base:bookworm ...
#
# Operators with a registry do not need it: the Dockerfiles default to
# python:3.11-slim-bookworm. Needs root, debootstrap and podman or docker.
set -euo pipefail
BASE_TAG=${BASE_TAG:-localhost/ocop-base:bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ENGINE=${ENGINE:-$(command -v podman || command -v docker)}
ROOTFS=${ROOTFS:-$(mktemp -d /var/tmp/ocop-rootfs.XXXXXX)}
trap 'rm -rf "$ROOTFS"' EXIT

debootstrap --variant=minbase \
  --include=python3,python3-venv,ca-certificates \
  bookworm "$ROOTFS" "$MIRROR"
# as small as the official slim image: no package lists, caches, documentation or locales
chroot "$ROOTFS" apt-get clean
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/usr/share/doc/* \
  "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/locale/*
tar -C "$ROOTFS" --numeric-owner -c . | "$ENGINE" import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' \
  - "$BASE_TAG"
echo "base image: $BASE_TAG"
