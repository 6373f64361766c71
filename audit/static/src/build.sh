#!/usr/bin/env bash
# Build case-audit front-end assets from GOV.UK Frontend's Sass and dist.
#
#   bash audit/static/src/build.sh
#
# Outputs (commit these; node_modules/ is git-ignored):
#   audit/static/css/case-audit.css       compiled, compressed CSS
#   audit/static/js/govuk-frontend.min.js GOV.UK Frontend ES module build (+ .map)
#   audit/static/images/<name>            only GOV.UK images the CSS references
#   audit/static/VERSION                  govuk-frontend / sass versions, build date
#
# Not generated (hand-made, committed): images/favicon.svg, images/favicon.ico,
# js/app.js.
set -euo pipefail

SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATIC_DIR="$(dirname "$SRC_DIR")"
cd "$SRC_DIR"

# 1. Install exact, pinned dependencies.
if [[ -f package-lock.json ]]; then
  npm ci --no-audit --no-fund --ignore-scripts
else
  npm install --no-audit --no-fund --ignore-scripts
fi

GOVUK_DIST="$SRC_DIR/node_modules/govuk-frontend/dist/govuk"
GOVUK_VERSION="$(node -p 'require("./node_modules/govuk-frontend/package.json").version')"
SASS_VERSION="$(node -p 'require("./node_modules/sass/package.json").version')"

mkdir -p "$STATIC_DIR/css" "$STATIC_DIR/js" "$STATIC_DIR/images"

# 2. Compile Sass (load path: node_modules, for "govuk-frontend/dist/govuk").
CSS_OUT="$STATIC_DIR/css/case-audit.css"
"$SRC_DIR/node_modules/.bin/sass" \
  --load-path="$SRC_DIR/node_modules" \
  --style=compressed \
  --no-source-map \
  --quiet-deps \
  "$SRC_DIR/case-audit.scss" "$CSS_OUT"

# 3. Guard rails: no GDS Transport font, no crown crest, nothing under /assets/.
if grep -qi 'GDS Transport' "$CSS_OUT"; then
  echo "build.sh: ERROR: compiled CSS mentions 'GDS Transport'" >&2
  exit 1
fi
if grep -q '@font-face' "$CSS_OUT"; then
  echo "build.sh: ERROR: compiled CSS contains an @font-face rule" >&2
  exit 1
fi
if grep -oE 'url\([^)]*\)' "$CSS_OUT" | grep -qiE 'crest|crown|govuk-icon|/assets/'; then
  echo "build.sh: ERROR: compiled CSS references GOV.UK crown branding or /assets/" >&2
  exit 1
fi

# 4. JavaScript: GOV.UK Frontend's ES module build, verbatim.
cp "$GOVUK_DIST/govuk-frontend.min.js" "$STATIC_DIR/js/govuk-frontend.min.js"
cp "$GOVUK_DIST/govuk-frontend.min.js.map" "$STATIC_DIR/js/govuk-frontend.min.js.map"

# 5. Images: copy only what the CSS references under /static/images/.
#    Every url(...) must resolve to a file under audit/static/.
status=0
while IFS= read -r ref; do
  [[ -z "$ref" ]] && continue
  path="${ref#url(}"; path="${path%)}"
  path="${path//\"/}"; path="${path//\'/}"
  case "$path" in
    data:*) continue ;;
    /static/images/favicon.*) ;;  # ours; never replace with GOV.UK's crown favicon
    /static/images/*)
      name="${path#/static/images/}"
      if [[ -f "$GOVUK_DIST/assets/images/$name" ]]; then
        cp "$GOVUK_DIST/assets/images/$name" "$STATIC_DIR/images/$name"
      fi
      ;;
  esac
  case "$path" in
    /static/*) target="$STATIC_DIR/${path#/static/}" ;;
    *) echo "build.sh: ERROR: url outside /static/: $path" >&2; status=1; continue ;;
  esac
  if [[ ! -f "$target" ]]; then
    echo "build.sh: ERROR: $path does not resolve to a file under audit/static/" >&2
    status=1
  fi
done < <(grep -oE 'url\([^)]*\)' "$CSS_OUT" | sort -u || true)
if [[ $status -ne 0 ]]; then exit "$status"; fi

# 6. Record what was built. Date only (UTC) so re-runs on the same day are
#    byte-identical; honours SOURCE_DATE_EPOCH for reproducible builds.
if [[ -n "${SOURCE_DATE_EPOCH:-}" ]]; then
  BUILD_DATE="$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)"
else
  BUILD_DATE="$(date -u +%Y-%m-%d)"
fi
cat > "$STATIC_DIR/VERSION" <<VERSION
govuk-frontend $GOVUK_VERSION
sass $SASS_VERSION
built $BUILD_DATE
VERSION

echo "build.sh: built case-audit assets (govuk-frontend $GOVUK_VERSION, sass $SASS_VERSION)"
ls -l "$CSS_OUT" "$STATIC_DIR/js/govuk-frontend.min.js" "$STATIC_DIR/VERSION"
