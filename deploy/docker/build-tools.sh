#!/bin/sh
# Build stage only: a C/C++ compiler and the Python headers, for the pinned packages that
# pip builds from source. The official python images have the headers of their Python;
# a Debian-Python base (deploy/docker/make-base.sh) gets python3-dev.
set -eu
headers=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
extra=""
[ -f "$headers/Python.h" ] || extra="python3-dev"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends gcc g++ libc6-dev $extra
rm -rf /var/lib/apt/lists/*
