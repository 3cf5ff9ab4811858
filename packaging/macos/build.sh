#!/bin/sh
# Build vaultgui.app and dist/vaultgui-<version>-macos-<arch>.dmg on macOS, run
# the self-test of the app and of the copy inside the mounted .dmg, and sign
# and notarize only when credentials are in the environment:
#
#   MACOS_SIGN_IDENTITY    "Developer ID Application: <name> (<team id>)" in the
#                          keychain; PyInstaller signs every binary and the app
#                          with it (hardened runtime, secure timestamp), and this
#                          script signs the .dmg
#   MACOS_NOTARY_PROFILE   a notarytool keychain profile (xcrun notarytool
#                          store-credentials), or all three of:
#   MACOS_NOTARY_APPLE_ID, MACOS_NOTARY_TEAM_ID, MACOS_NOTARY_PASSWORD
#                          (an app-specific password)
#   VAULTGUI_BUNDLE_ID     bundle identifier, see packaging/vaultgui.spec
#
# The app has the architecture of the Python that builds it (arm64 on Apple
# silicon runners); Intel Macs need a build on an Intel machine.
# NOTE: not yet run; the first CI run on a macOS runner is its first test.
set -eu
cd "$(dirname "$0")/../.."

app=dist/vaultgui.app
work=$(mktemp -d)
mounted=""
cleanup() {
    if [ -n "$mounted" ]; then
        hdiutil detach -quiet "$mounted" || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Runs the self-test of the app at $1 with QT_QPA_PLATFORM=$2 and fails unless
# it exits with 0 and every line starts with "ok".
self_test() {
    echo "== self-test: $1 ($2)"
    QT_QPA_PLATFORM=$2 "$1/Contents/MacOS/vaultgui" --self-test >"$work/out"
    cat "$work/out"
    if grep -v '^ok' "$work/out" >/dev/null; then
        echo "build.sh: the self-test of $1 printed a line not starting with ok" >&2
        exit 1
    fi
}

notarize() {
    if [ -n "${MACOS_NOTARY_PROFILE:-}" ]; then
        set -- --keychain-profile "$MACOS_NOTARY_PROFILE"
    elif [ -n "${MACOS_NOTARY_APPLE_ID:-}" ] && [ -n "${MACOS_NOTARY_TEAM_ID:-}" ] &&
        [ -n "${MACOS_NOTARY_PASSWORD:-}" ]; then
        set -- --apple-id "$MACOS_NOTARY_APPLE_ID" --team-id "$MACOS_NOTARY_TEAM_ID" \
            --password "$MACOS_NOTARY_PASSWORD"
    else
        echo "No notarization credentials: $dmg is not notarized"
        return 0
    fi
    if [ -z "${MACOS_SIGN_IDENTITY:-}" ]; then
        echo "build.sh: notarization needs a signed app; set MACOS_SIGN_IDENTITY" >&2
        exit 1
    fi
    xcrun notarytool submit "$dmg" "$@" --wait --output-format json >"$work/notary.json"
    cat "$work/notary.json"
    status=$(.venv/bin/python -c \
        'import json, sys; print(json.load(sys.stdin).get("status", ""))' \
        <"$work/notary.json")
    if [ "$status" != "Accepted" ]; then
        submission=$(.venv/bin/python -c \
            'import json, sys; print(json.load(sys.stdin).get("id", ""))' \
            <"$work/notary.json")
        xcrun notarytool log "$submission" "$@" || true
        echo "build.sh: notarization ended with status '$status'" >&2
        exit 1
    fi
    xcrun stapler staple "$dmg"
    xcrun stapler validate "$dmg"
    spctl --assess --type open --context context:primary-signature --verbose=2 "$dmg"
}

make package
version=$(.venv/bin/python -c 'import vaultgui; print(vaultgui.__version__)')
dmg="dist/vaultgui-$version-macos-$(uname -m).dmg"

self_test "$app" offscreen
self_test "$app" cocoa
if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    codesign --verify --deep --strict --verbose=2 "$app"
else
    echo "MACOS_SIGN_IDENTITY not set: $app is not signed"
fi

echo "== $dmg"
mkdir "$work/dmg"
ditto "$app" "$work/dmg/vaultgui.app"
ln -s /Applications "$work/dmg/Applications"
rm -f "$dmg"
hdiutil create -volname "vaultgui $version" -srcfolder "$work/dmg" -fs HFS+ \
    -format UDZO -ov "$dmg"
if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    codesign --sign "$MACOS_SIGN_IDENTITY" --timestamp "$dmg"
fi
notarize

mounted="$work/mount"
mkdir "$mounted"
hdiutil attach -quiet -nobrowse -readonly -mountpoint "$mounted" "$dmg"
self_test "$mounted/vaultgui.app" offscreen
hdiutil detach -quiet "$mounted"
mounted=""
ls -l "$dmg"
