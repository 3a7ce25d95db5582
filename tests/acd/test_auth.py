"""acd.auth: password hashes, the directory's permissions and bearer tokens."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.auth import (
    AuthError,
    BadPasswordHash,
    Directory,
    Forbidden,
    InvalidCredentials,
    InvalidToken,
    Principal,
    Session,
    TokenStore,
    hash_password,
    read_session_record,
    session_record,
    verify_password,
)
from acd.deployment.models import (
    AgentConfig,
    CalendarConfig,
    Deployment,
    QueueConfig,
    Role,
    SiteConfig,
    SkillConfig,
    TeamConfig,
    UserConfig,
    Weekday,
)
from acd.model import Channel

SALT = b"0123456789abcdef"
#: Cross-checked with OpenSSL: `openssl kdf -keylen 32 -kdfopt pass:"correct horse"
#: -kdfopt salt:0123456789abcdef -kdfopt n:16384 -kdfopt r:8 -kdfopt p:1 -binary SCRYPT | base64`.
KNOWN = "scrypt$16384$8$1$MDEyMzQ1Njc4OWFiY2RlZg==$0LupyHkzAIgDr9UDsriAAf87vMbCbcaUfDvFOAHk0D0="
SALT_B64 = "MDEyMzQ1Njc4OWFiY2RlZg=="
DIGEST_B64 = "0LupyHkzAIgDr9UDsriAAf87vMbCbcaUfDvFOAHk0D0="
PASSWORDS = {"ana": "ana-secret", "sup": "sup-secret", "root": "root-secret"}
HASHES = {user: hash_password(password, salt=SALT) for user, password in PASSWORDS.items()}


def deployment() -> Deployment:
    return Deployment(
        calendars=[CalendarConfig(id="office", hours={Weekday.MON: ["08:30-18:00"]})],
        sites=[SiteConfig(id="lyon", name="Lyon", departments=["69"], calendar="office")],
        skills=[SkillConfig(id="tva", name="TVA")],
        teams=[
            TeamConfig(id="team-a", name="A", site="lyon", supervisor="sup"),
            TeamConfig(id="team-b", name="B", site="lyon"),
        ],
        agents=[
            AgentConfig(id="ana", name="Ana", team="team-a", skills={"tva": 3}),
            AgentConfig(id="bob", name="Bob", team="team-a", skills={"tva": 2}),
            AgentConfig(id="cid", name="Cid", team="team-b", skills={"tva": 4}),
        ],
        queues=[QueueConfig(id="tva", name="TVA", site="lyon", channels=[Channel.VOICE], skills={"tva": 1})],
        users=[
            UserConfig(id="ana", name="Ana", role=Role.AGENT, password_hash=HASHES["ana"], agent="ana"),
            UserConfig(id="sup", name="Sue", role=Role.SUPERVISOR, password_hash=HASHES["sup"]),
            UserConfig(id="root", name="Root", role=Role.ADMIN, password_hash=HASHES["root"]),
        ],
    )


@pytest.fixture
def directory() -> Directory:
    return Directory(deployment(), agent_queues={"ana": frozenset({"tva"}), "bob": frozenset()})


def login(directory: Directory, user: str) -> Principal:
    return directory.authenticate(user, PASSWORDS[user])


# --- password hashes ---------------------------------------------------------------------------------------


def test_known_vector() -> None:
    assert hash_password("correct horse", salt=SALT) == KNOWN
    assert verify_password("correct horse", KNOWN) is True


def test_round_trip_and_wrong_password() -> None:
    encoded = hash_password("s3cret")
    assert encoded.startswith("scrypt$16384$8$1$") and "\n" not in encoded
    assert verify_password("s3cret", encoded) is True
    assert verify_password("s3cret ", encoded) is False
    assert verify_password("", encoded) is False


def test_random_salt() -> None:
    assert hash_password("same") != hash_password("same")


def test_lone_surrogate_hashes_instead_of_failing() -> None:
    encoded = hash_password("\udc80", salt=SALT)
    assert verify_password("\udc80", encoded) is True
    assert verify_password("\udc81", encoded) is False


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        ("", "password hash does not start with 'scrypt$'"),
        (KNOWN.replace("scrypt", "bcrypt"), "password hash does not start with 'scrypt$'"),
        (KNOWN.replace("scrypt", "SCRYPT"), "password hash does not start with 'scrypt$'"),
        (f"scrypt$16384$8$1${SALT_B64}", "password hash has 5 '$'-separated fields, expected 6"),
        (KNOWN + "$", "password hash has 7 '$'-separated fields, expected 6"),
        (
            f"scrypt$0x4000$8$1${SALT_B64}${DIGEST_B64}",
            "password hash field n is not a decimal number of at most 8 digits",
        ),
        (
            f"scrypt$16384$ 8$1${SALT_B64}${DIGEST_B64}",
            "password hash field r is not a decimal number of at most 8 digits",
        ),
        (
            f"scrypt$16384$8$\u0661${SALT_B64}${DIGEST_B64}",
            "password hash field p is not a decimal number of at most 8 digits",
        ),
        (f"scrypt$1000$8$1${SALT_B64}${DIGEST_B64}", "password hash n=1000 is not a power of two"),
        (f"scrypt$1$8$1${SALT_B64}${DIGEST_B64}", "password hash n=1 is not a power of two"),
        (f"scrypt$0$8$1${SALT_B64}${DIGEST_B64}", "password hash n=0 is not a power of two"),
        (f"scrypt$2097152$8$1${SALT_B64}${DIGEST_B64}", "password hash n=2097152 is above the limit 1048576"),
        (f"scrypt$16384$0$1${SALT_B64}${DIGEST_B64}", "password hash r=0 and p=1 must both be at least 1"),
        (f"scrypt$16384$8$0${SALT_B64}${DIGEST_B64}", "password hash r=8 and p=0 must both be at least 1"),
        (
            f"scrypt$65536$1$1${SALT_B64}${DIGEST_B64}",
            "password hash n=65536 is not below 2**(16*r) for r=1 (RFC 7914 §2)",
        ),
        (
            f"scrypt$1048576$16$1${SALT_B64}${DIGEST_B64}",
            "password hash cost n*r*p=16777216 is above the limit 8388608",
        ),
        (
            f"scrypt$16384$8$99999999${SALT_B64}${DIGEST_B64}",
            "password hash cost n*r*p=13107199868928 is above the limit 8388608",
        ),
        (f"scrypt$16384$8$1$not base64!${DIGEST_B64}", "password hash field salt is not valid base64"),
        (f"scrypt$16384$8$1$MDEy\u00e9${DIGEST_B64}", "password hash field salt is not valid base64"),
        (f"scrypt$16384$8$1${SALT_B64}${DIGEST_B64[:-1]}", "password hash field hash is not valid base64"),
        (f"scrypt$16384$8$1$MDEy${DIGEST_B64}", "password hash field salt is 3 bytes, expected 8 to 64"),
        (f"scrypt$16384$8$1${SALT_B64}$", "password hash field hash is 0 bytes, expected 16 to 64"),
    ],
)
def test_malformed_hash(encoded: str, message: str) -> None:
    with pytest.raises(BadPasswordHash) as caught:
        verify_password("correct horse", encoded)
    assert caught.value.message == str(caught.value) == message
    assert isinstance(caught.value, AuthError) and isinstance(caught.value, ValueError)
    assert caught.value.status_code == 500


@settings(max_examples=20, deadline=None)
@given(st.text(max_size=40))
def test_property_round_trip(password: str) -> None:
    assert verify_password(password, hash_password(password)) is True


SMALL_N = st.sampled_from(["2", "4", "16", "1024"])
NUMBERS = SMALL_N | st.sampled_from(["0", "1", "3", "2097152", "99999999", ""]) | st.text(max_size=3)
FACTORS = st.integers(1, 4).map(str) | NUMBERS
B64 = st.binary(min_size=8, max_size=64) | st.binary(max_size=70)
FIELDS = B64.map(lambda data: base64.b64encode(data).decode()) | st.text(max_size=12)
#: Strings shaped like a hash, so that the fuzz reaches past the first checks and into scrypt; n <= 1024.
NEAR_HASHES = st.builds(
    lambda fields, extra: "$".join(["scrypt", *fields, *extra]),
    st.tuples(SMALL_N | NUMBERS, FACTORS, FACTORS, FIELDS, FIELDS),
    st.sampled_from([(), (), (), ("",)]),
)


@settings(deadline=None)
@given(st.text() | NEAR_HASHES)
def test_property_garbage_is_false_or_refused(encoded: str) -> None:
    try:
        assert verify_password("correct horse", encoded) is False
    except BadPasswordHash:
        pass


# --- directory ---------------------------------------------------------------------------------------------


def test_authenticate(directory: Directory) -> None:
    assert login(directory, "ana") == Principal("ana", "Ana", Role.AGENT, "ana", frozenset())
    assert login(directory, "sup") == Principal("sup", "Sue", Role.SUPERVISOR, None, frozenset({"team-a"}))
    assert login(directory, "root") == Principal("root", "Root", Role.ADMIN, None, frozenset())


@pytest.mark.parametrize(("user", "password"), [("ana", "sup-secret"), ("ana", ""), ("nobody", "ana-secret")])
def test_authenticate_refused_alike(directory: Directory, user: str, password: str) -> None:
    with pytest.raises(InvalidCredentials) as caught:
        directory.authenticate(user, password)
    assert caught.value.message == "unknown user or wrong password"
    assert (caught.value.status_code, caught.value.error_id) == (401, "invalid-credentials")


def test_supervisor_teams_are_its_listed_and_led_teams() -> None:
    base = deployment()
    users = [u.model_copy(update={"teams": ["team-b"]}) if u.id == "sup" else u for u in base.users]
    directory = Directory(base.model_copy(update={"users": users}), agent_queues={})
    sup = login(directory, "sup")
    assert sup.teams == {"team-a", "team-b"}
    assert directory.may_act_on_agent(sup, "cid")


def test_bad_hash_in_configuration_is_a_server_fault() -> None:
    base = deployment()
    users = [u.model_copy(update={"password_hash": "scrypt$1$8$1$x$y"}) if u.id == "ana" else u for u in base.users]
    directory = Directory(base.model_copy(update={"users": users}), agent_queues={})
    with pytest.raises(BadPasswordHash, match="n=1 is not a power of two"):
        login(directory, "ana")


@pytest.mark.parametrize(
    ("user", "allowed"),
    [("ana", {"ana"}), ("sup", {"ana", "bob"}), ("root", {"ana", "bob", "cid", "ghost"})],
)
def test_may_act_on_agent(directory: Directory, user: str, allowed: set[str]) -> None:
    principal = login(directory, user)
    for agent_id in ("ana", "bob", "cid", "ghost"):
        assert directory.may_act_on_agent(principal, agent_id) is (agent_id in allowed), agent_id


def test_may_see_queue(directory: Directory) -> None:
    ana, sup, root = (login(directory, user) for user in ("ana", "sup", "root"))
    assert directory.may_see_queue(ana, "tva")
    assert not directory.may_see_queue(ana, "other")
    assert directory.may_see_queue(sup, "tva") and directory.may_see_queue(sup, "other")
    assert directory.may_see_queue(root, "other")
    cid = Principal("cid", "Cid", Role.AGENT, "cid", frozenset())  # an agent absent from the mapping
    assert not directory.may_see_queue(cid, "tva")


def test_may_manage_tasks(directory: Directory) -> None:
    assert [directory.may_manage_tasks(login(directory, user)) for user in ("ana", "sup", "root")] == [
        False,
        True,
        True,
    ]


def test_require(directory: Directory) -> None:
    directory.require(True, "anything")
    with pytest.raises(Forbidden) as caught:
        directory.require(False, "cancel tasks")
    assert caught.value.message == "not allowed: cancel tasks"
    assert (caught.value.status_code, caught.value.error_id) == (403, "forbidden")


def test_principal_agent_id_only_for_agents() -> None:
    with pytest.raises(ValueError, match="principal 'x': an agent_id is given for role agent, and only for it"):
        Principal("x", "X", Role.SUPERVISOR, "ana", frozenset())
    with pytest.raises(ValueError):
        Principal("x", "X", Role.AGENT, None, frozenset())


# --- tokens ------------------------------------------------------------------------------------------------

SUE = Principal("sup", "Sue", Role.SUPERVISOR, None, frozenset({"team-a"}))
ANA = Principal("ana", "Ana", Role.AGENT, "ana", frozenset())


def test_token_issue_and_resolve() -> None:
    store = TokenStore(lifetime=3600)
    token, expires = store.issue(SUE, now=1000.0)
    other, _ = store.issue(ANA, now=1000.0)
    assert expires == 4600.0 and token != other and len(token) >= 43
    assert store.resolve(token, now=4599.0) == SUE
    assert store.resolve(other, now=1000.0) == ANA


def test_token_kept_hashed() -> None:
    store = TokenStore(lifetime=3600)
    token, _ = store.issue(SUE, now=0.0)
    assert token not in repr(vars(store)) and token.encode() not in repr(vars(store)).encode()


def expect_invalid(store: TokenStore, token: str, now: float) -> None:
    with pytest.raises(InvalidToken) as caught:
        store.resolve(token, now)
    assert caught.value.message == "unknown or expired token"
    assert (caught.value.status_code, caught.value.error_id) == (401, "invalid-token")


def test_token_expiry_drops_it() -> None:
    store = TokenStore(lifetime=60)
    token, expires = store.issue(SUE, now=0.0)
    expect_invalid(store, token, now=expires)
    assert len(store) == 0
    expect_invalid(store, token, now=0.0)  # gone for good, even with the clock set back


def test_unknown_and_revoked_tokens() -> None:
    store = TokenStore(lifetime=60)
    expect_invalid(store, "not-a-token", now=0.0)
    token, _ = store.issue(SUE, now=0.0)
    store.revoke(token)
    store.revoke(token)  # revoking twice is harmless
    expect_invalid(store, token, now=1.0)


def test_purge_and_issue_drop_expired_tokens() -> None:
    store = TokenStore(lifetime=60)
    old, _ = store.issue(SUE, now=0.0)
    young, _ = store.issue(ANA, now=30.0)
    store.purge(now=59.0)
    assert len(store) == 2
    store.purge(now=60.0)
    assert len(store) == 1 and store.resolve(young, now=60.0) == ANA
    store.issue(SUE, now=90.0)
    assert len(store) == 1
    expect_invalid(store, old, now=0.0)


# --- sessions: rebuilt from the users as configured now ----------------------------------------------------


def changed(users: dict[str, UserConfig | None]) -> Directory:
    """The directory of `deployment()` with some users replaced, or removed (None)."""
    base = deployment()
    kept = [users.get(u.id, u) for u in base.users]
    return Directory(base.model_copy(update={"users": [u for u in kept if u is not None]}), agent_queues={})


def test_a_session_keeps_a_fingerprint_of_the_password_hash_not_the_hash(directory: Directory) -> None:
    session = directory.session(login(directory, "sup"))
    assert session.user_id == "sup" and len(session.fingerprint) == 32
    assert session.fingerprint not in HASHES["sup"] and DIGEST_B64 not in session.fingerprint
    assert directory.principal(session) == login(directory, "sup")
    assert directory.session(login(directory, "ana")).fingerprint != session.fingerprint  # salts alike, hashes not


def test_a_session_of_a_removed_user_or_a_changed_password_is_refused(directory: Directory) -> None:
    session = directory.session(login(directory, "sup"))
    with pytest.raises(InvalidToken, match="the session's user no longer exists") as gone:
        changed({"sup": None}).principal(session)
    assert (gone.value.status_code, gone.value.error_id) == (401, "invalid-token")
    new_hash = UserConfig(id="sup", name="Sue", role=Role.SUPERVISOR, password_hash=hash_password("sup-secret"))
    with pytest.raises(InvalidToken, match="the session's user changed its password"):
        changed({"sup": new_hash}).principal(session)  # the same password, hashed again: a new hash


def test_a_session_takes_the_users_current_role_and_teams(directory: Directory) -> None:
    session = directory.session(login(directory, "sup"))
    demoted = UserConfig(id="sup", name="Sue", role=Role.AGENT, password_hash=HASHES["sup"], agent="bob")
    now_an_agent = Principal("sup", "Sue", Role.AGENT, "bob", frozenset({"team-a"}))
    assert changed({"sup": demoted}).principal(session) == now_an_agent
    more = UserConfig(id="sup", name="Sue", role=Role.SUPERVISOR, password_hash=HASHES["sup"], teams=["team-b"])
    assert changed({"sup": more}).principal(session).teams == {"team-a", "team-b"}  # team-a: it supervises it


def test_a_session_record_reads_back_and_refuses_anything_else() -> None:
    session = Session("sup", "0" * 32)
    assert read_session_record(session_record(session, 12.5)) == (session, 12.5)
    for text, fault in [
        ("{", "not a session record: Expecting property name"),
        ('["sup", "Sue", "supervisor", null, [], 9e9]', "not a session record: too many values"),  # the old form
        ('["sup", 3, 9e9]', "not a session record: its user or fingerprint is not a string"),
        ('["sup", "00", "soon"]', "not a session record: its expiry is not a number"),
        ('["sup", "00", true]', "not a session record: its expiry is not a number"),
        ("7", "not a session record: cannot unpack"),
    ]:
        with pytest.raises(ValueError, match=fault):
            read_session_record(text)


def test_lifetime_must_be_positive() -> None:
    with pytest.raises(ValueError, match="token lifetime must be positive, not 0"):
        TokenStore(lifetime=0)
