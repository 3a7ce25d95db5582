"""Where the MQTT broker is, as an operator writes it (`--mqtt mqtt://host:port`), for the ACD that follows
the headsets and for the softphones that publish them."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomqtt

from acd.hostport import AddressError, parse_host_port


@dataclass(frozen=True, slots=True)
class Broker:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> Broker:
        """mqtt://[user:password@]host[:port] (1883) or mqtts://… (8883); ValueError naming what is wrong."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError(f"{url!r} is not mqtt://host[:port] or mqtts://host[:port]")
        if parts.query or parts.fragment:
            raise ValueError(f"{url!r} is not mqtt://host[:port] or mqtts://host[:port]")
        tls = parts.scheme == "mqtts"
        _, _, where = parts.netloc.rpartition("@")  # user:password@ aside
        try:
            host, port = parse_host_port(where, default_port=8883 if tls else 1883)
        except AddressError as error:
            raise ValueError(f"{url!r}: {error}") from None
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(host, port, tls, username, password)

    def client(self, **options: Any) -> aiomqtt.Client:
        """A client of this broker (aiomqtt), with `options` such as a will."""
        return aiomqtt.Client(
            self.host, self.port, username=self.username, password=self.password,
            tls_params=aiomqtt.TLSParameters() if self.tls else None, **options,
        )  # fmt: skip


def broker_option(text: str) -> Broker:
    """`--mqtt URL` as argparse reads it (`type=`): the broker, or the option refused saying why."""
    try:
        return Broker.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
