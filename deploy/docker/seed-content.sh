#!/bin/sh
# Copy the content files shipped in the image (data/cards, data/stats, data/contacts.csv,
# data/docs) into the content volume OCOP_CONTENT_DIR, each only when it is missing there:
# what staff edited in the console is never overwritten. Run by the actions and console
# entrypoints (and the Kubernetes init container) before they start; a lock keeps containers
# that start together from seeding at once.
set -eu
dest=${OCOP_CONTENT_DIR:?OCOP_CONTENT_DIR is not set}
mkdir -p "$dest"
exec 9>"$dest/.seed.lock"
flock 9
for item in cards stats docs contacts.csv; do
  if [ ! -e "$dest/$item" ]; then
    rm -rf "$dest/.$item.seeding"
    cp -R "/app/data/$item" "$dest/.$item.seeding"
    mv "$dest/.$item.seeding" "$dest/$item"
    echo "seeded $dest/$item from the image"
  fi
done
