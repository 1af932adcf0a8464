#!/usr/bin/env bash
# Build a small, real, one-layer image from Debian's busybox-static package.
#
# Usage: scripts/build-sample-image.sh [OUTDIR]      (default: .cache/sample)
#
# Writes, byte-identical on every run from the same .deb:
#   OUTDIR/oci/               OCI image layout, ref name "1.0"
#   OUTDIR/sample.oci.tar     the same layout as an oci-archive
#   OUTDIR/sample.docker.tar  the layout plus manifest.json/repositories, so
#                             docker 20.10 `docker load` accepts it
# Prints "manifest-digest", "config-digest", "layer-digest" and "diff-id"
# lines on stdout; progress goes to stderr.
#
# Needs apt-get, dpkg-deb, GNU tar, gzip and sha256sum. The .deb is fetched
# once with `apt-get download` (no root needed) into .cache/debs/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/.cache/sample}
debs=$root/.cache/debs

name=hypership/sample
tag=1.0
epoch=1704067200              # every timestamp in the image: 2024-01-01
created=2024-01-01T00:00:00Z

die() { echo "build-sample-image: $*" >&2; exit 1; }
say() { echo "build-sample-image: $*" >&2; }

for tool in apt-get dpkg-deb tar gzip sha256sum; do
  command -v "$tool" >/dev/null ||
    die "$tool not found (install it, or run scripts/test.sh)"
done
tar --version | grep -q 'GNU tar' || die "GNU tar is required for --sort=name"

# Reuse a cached .deb so rebuilds are offline and byte-identical.
fetch_deb() {
  local deb
  deb=$(ls "$debs"/busybox-static_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$deb" ]; then echo "$deb"; return; fi

  mkdir -p "$debs"
  local dl
  dl=$(mktemp -d "$debs/.dl.XXXXXX")
  # As root, apt would try to drop to its _apt user, which cannot write into
  # our private temp dir, and warn about it.
  local sandbox=()
  [ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
  if ! (cd "$dl" && apt-get "${sandbox[@]}" download busybox-static >&2); then
    rm -rf "$dl"
    die "apt-get download busybox-static failed; if apt has no package" \
      "lists yet, run 'apt-get update' (as root) and retry"
  fi
  # A rename is atomic, so a concurrent build never sees half a file.
  for f in "$dl"/*.deb; do mv "$f" "$debs/"; done
  rmdir "$dl"
  ls "$debs"/busybox-static_*.deb | sort -V | tail -n 1
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# tar flags that make the archive depend only on the file names, contents and
# the modes we set below.
det_tar() {
  tar --sort=name --format=gnu --numeric-owner --owner=0 --group=0 \
    --mtime="@$epoch" "$@"
}

deb=$(fetch_deb)
say "using $(basename "$deb")"

mkdir -p "$out"
work=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 1. Root filesystem: busybox, a few applet links, a minimal /etc, /tmp.
dpkg-deb -x "$deb" "$work/deb"
rootfs=$work/rootfs
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/root" "$rootfs/tmp"
cp "$work/deb/bin/busybox" "$rootfs/bin/busybox"
for applet in sh ls cat echo env true; do
  ln -s busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"

# Modes are set explicitly so the caller's umask cannot change the layer.
chmod 0755 "$rootfs" "$rootfs/bin" "$rootfs/etc" "$rootfs/bin/busybox"
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group"
chmod 0700 "$rootfs/root"
chmod 1777 "$rootfs/tmp"

# 2. Layer: the uncompressed tar gives the diff_id, the gzip is the blob.
det_tar -C "$rootfs" -cf "$work/layer.tar" bin etc root tmp
gzip -n -9 -c "$work/layer.tar" >"$work/layer.tar.gz"
diff_id=sha256:$(sha "$work/layer.tar")
layer=sha256:$(sha "$work/layer.tar.gz")
layer_size=$(size "$work/layer.tar.gz")

# 3. Config, manifest and index. Every value below is a digest, a number or
# a fixed string, so plain concatenation yields valid, compact JSON with a
# fixed key order (no jq needed).
json() { local IFS=; printf '%s' "$*"; }
oci_mt=application/vnd.oci.image
blobs=$work/oci/blobs/sha256
mkdir -p "$blobs"

json '{"architecture":"amd64","os":"linux","created":"' "$created" '",' \
  '"config":{"Env":["PATH=/bin"],"Cmd":["sh"]},' \
  '"rootfs":{"type":"layers","diff_ids":["' "$diff_id" '"]},' \
  '"history":[{"created":"' "$created" '",' \
  '"created_by":"scripts/build-sample-image.sh: busybox-static rootfs"}]}' \
  >"$work/config.json"
config=sha256:$(sha "$work/config.json")
config_size=$(size "$work/config.json")

json '{"schemaVersion":2,"mediaType":"' "$oci_mt" '.manifest.v1+json",' \
  '"config":{"mediaType":"' "$oci_mt" '.config.v1+json",' \
  '"digest":"' "$config" '","size":' "$config_size" '},' \
  '"layers":[{"mediaType":"' "$oci_mt" '.layer.v1.tar+gzip",' \
  '"digest":"' "$layer" '","size":' "$layer_size" '}]}' \
  >"$work/manifest.json"
manifest=sha256:$(sha "$work/manifest.json")
manifest_size=$(size "$work/manifest.json")

mv "$work/layer.tar.gz" "$blobs/${layer#sha256:}"
mv "$work/config.json" "$blobs/${config#sha256:}"
mv "$work/manifest.json" "$blobs/${manifest#sha256:}"

json '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
json '{"schemaVersion":2,"mediaType":"' "$oci_mt" '.index.v1+json",' \
  '"manifests":[{"mediaType":"' "$oci_mt" '.manifest.v1+json",' \
  '"digest":"' "$manifest" '","size":' "$manifest_size" ',' \
  '"annotations":{"io.containerd.image.name":"docker.io/' "$name:$tag" '",' \
  '"org.opencontainers.image.ref.name":"' "$tag" '"}}]}' \
  >"$work/oci/index.json"

# 4. docker 20.10 cannot load a plain OCI layout, but it loads one that also
# carries a docker manifest.json pointing into blobs/. The gzip layer is fine.
docker_dir=$work/docker
cp -a "$work/oci" "$docker_dir"
json '[{"Config":"blobs/sha256/' "${config#sha256:}" '",' \
  '"RepoTags":["' "$name:$tag" '"],' \
  '"Layers":["blobs/sha256/' "${layer#sha256:}" '"]}]' \
  >"$docker_dir/manifest.json"
# Legacy loaders key a tag by its top layer ID; with one layer that is the
# chain ID, which equals the diff_id.
json '{"' "$name" '":{"' "$tag" '":"' "${diff_id#sha256:}" '"}}' \
  >"$docker_dir/repositories"

chmod -R u=rwX,go=rX "$work/oci" "$docker_dir"
det_tar -C "$work/oci" -cf "$work/sample.oci.tar" blobs index.json oci-layout
det_tar -C "$docker_dir" -cf "$work/sample.docker.tar" \
  blobs index.json manifest.json oci-layout repositories

# 5. Swap the results into OUTDIR.
rm -rf "$out/oci"
mv "$work/oci" "$out/oci"
mv -f "$work/sample.oci.tar" "$out/sample.oci.tar"
mv -f "$work/sample.docker.tar" "$out/sample.docker.tar"

for f in sample.oci.tar sample.docker.tar; do
  say "wrote $out/$f ($(size "$out/$f") bytes)"
done
say "wrote $out/oci/"
echo "manifest-digest $manifest"
echo "config-digest $config"
echo "layer-digest $layer"
echo "diff-id $diff_id"
