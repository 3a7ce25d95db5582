#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian machine, then runs the whole test suite.
# System packages with apt-get (only those missing), Python packages in a project venv (.venv).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v python3 >/dev/null || need+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
[ -e /usr/share/zoneinfo/Europe/Paris ] || need+=(tzdata)
command -v redis-server >/dev/null || need+=(redis-server)  # the shared store, started by the tests on free ports
command -v sipp >/dev/null || need+=(sip-tester)  # SIP phones and trunks nobody here wrote, played against acd serve
command -v espeak-ng >/dev/null || need+=(espeak-ng)  # speaks the IVR's prompts
[ -x /usr/sbin/mosquitto ] || need+=(mosquitto)  # the MQTT broker the headsets' state goes through
# The softphone's sound: PulseAudio's null devices stand for the headset; PortAudio reaches them through
# ALSA's pulse plugin
command -v pulseaudio >/dev/null || need+=(pulseaudio)
command -v pactl >/dev/null || need+=(pulseaudio-utils)
[ -e /usr/lib/x86_64-linux-gnu/libportaudio.so.2 ] || ldconfig -p | grep -q libportaudio.so.2 || need+=(libportaudio2)
ls /usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so >/dev/null 2>&1 || need+=(libasound2-plugins)
if [ ${#need[@]} -gt 0 ]; then
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "${need[@]}"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'

.venv/bin/python -m mypy
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
