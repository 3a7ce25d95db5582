#!/usr/bin/env bash
# Installs what the ACD needs on a fresh Debian machine, as root or as a user with sudo:
#   bash install.sh        what `acd serve` needs: espeak-ng, and the Python packages of requirements.txt
#   bash install.sh test   and what the tests need: the servers and peers they start, requirements-test.txt
# System packages come from apt-get, only those missing; Python packages go into .venv, exactly the versions
# (and hashes) of the lock, the project itself installed editable over them.
set -euo pipefail
cd "$(dirname "$0")"
what=${1:-run}
case "$what" in
    run) lock=requirements.txt ;;
    test) lock=requirements-test.txt ;;
    *) echo "usage: bash install.sh [run|test]" >&2; exit 2 ;;
esac

need=()
command -v python3 >/dev/null || need+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
[ -e /usr/share/zoneinfo/Europe/Paris ] || need+=(tzdata)
command -v espeak-ng >/dev/null || need+=(espeak-ng)  # speaks the IVR's prompts
if [ "$what" = test ]; then
    command -v redis-server >/dev/null || need+=(redis-server)  # the shared store, started by the tests on free ports
    command -v sipp >/dev/null || need+=(sip-tester)  # SIP phones and trunks nobody here wrote, played against acd serve
    command -v baresip >/dev/null || need+=(baresip-core)  # baresip 1.0 (libre), an MD5-only agent's phone against acd serve
    [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)  # the MQTT broker the headsets' state goes through
    # The softphone's sound: PulseAudio's null devices stand for the headset; PortAudio reaches them through
    # ALSA's pulse plugin
    command -v pulseaudio >/dev/null || need+=(pulseaudio)
    command -v pactl >/dev/null || need+=(pulseaudio-utils)
    ldconfig -p | grep -q libportaudio.so.2 || need+=(libportaudio2)
    ls /usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so >/dev/null 2>&1 || need+=(libasound2-plugins)
    command -v chromium >/dev/null || need+=(chromium)  # the pages, driven by Playwright (which downloads no browser)
fi
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        as_root=()
    elif command -v sudo >/dev/null; then
        as_root=(sudo)
    else
        echo "install.sh: these Debian packages are missing and installing them needs root (or sudo): ${need[*]}" >&2
        exit 1
    fi
    "${as_root[@]}" apt-get update -q
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
# --require-hashes: every package, direct or not, is the one the lock names, byte for byte; --no-deps: nothing
# the lock does not name comes in. The project's own build backend (setuptools) is in the lock too.
.venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes --no-deps -r "$lock"
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
.venv/bin/python -m pip check -q >/dev/null
