"""Every action the portal records reads as a sentence on the audit page.

The actions are read from the source, not listed by hand: every call that records
an event (`audit.record`, `audit.by_staff`, and any function or class that takes an
`action` and passes it on) is found with `ast`, and the action it records is worked
out from the call: a string, either branch of a conditional, a variable assigned in
the function, or an f-string over an enum. A recording this test cannot read fails
too, so a new way of recording cannot slip past it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal.audit.sentences import (
    SENTENCES,
    UNNAMED,
    Link,
    Named,
    Part,
    plain,
    readable,
    render,
)

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "portal"
ACTION = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")


@dataclass(frozen=True)
class Recorded:
    action: str
    where: str


@dataclass
class _Source:
    path: Path
    tree: ast.Module
    parents: dict[ast.AST, ast.AST]


def _sources() -> list[_Source]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        found.append(_Source(path, tree, parents))
    return found


def _enclosing(source: _Source, node: ast.AST, kind: type | tuple[type, ...]) -> ast.AST | None:
    while node in source.parents:
        node = source.parents[node]
        if isinstance(node, kind):
            return node
    return None


def _positions(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[list[str], list[str]]:
    positional = [a.arg for a in function.args.posonlyargs + function.args.args]
    if positional and positional[0] in ("self", "cls"):
        positional = positional[1:]
    return positional, [a.arg for a in function.args.kwonlyargs]


def _action_takers(sources: list[_Source]) -> dict[str, int | None]:
    """What records an action: `portal.audit.service.record`, and every function or
    class that passes an `action` of its own on to one that does (`by_staff`, a
    domain's `_audit` helper, `SignIn`): name -> the position of `action` among its
    positional arguments (None when it is keyword-only)."""
    takers: dict[str, int | None] = {"record": None}
    functions = [
        (source, node)
        for source in sources
        for node in ast.walk(source.tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    classes = {
        node.name: [
            item.target.id
            for item in node.body
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
        ]
        for source in sources
        for node in ast.walk(source.tree)
        if isinstance(node, ast.ClassDef)
    }
    grown = True
    while grown:
        grown = False
        for source, function in functions:
            positional, keyword_only = _positions(function)
            annotations = {
                a.arg: a.annotation
                for a in function.args.posonlyargs + function.args.args + function.args.kwonlyargs
            }
            for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                callee = _resolved_callee(source, call)
                if callee not in takers:
                    continue
                given = next((k.value for k in call.keywords if k.arg == "action"), None)
                position = takers[callee]
                if given is None and position is not None and len(call.args) > position:
                    given = call.args[position]
                # The function passes on an action it takes itself.
                if isinstance(given, ast.Name) and given.id == "action":
                    if "action" in positional and function.name not in takers:
                        takers[function.name] = positional.index("action")
                        grown = True
                    elif "action" in keyword_only and function.name not in takers:
                        takers[function.name] = None
                        grown = True
                # Or the action a record of a class carries (`entry.action`).
                if (
                    isinstance(given, ast.Attribute)
                    and given.attr == "action"
                    and isinstance(given.value, ast.Name)
                ):
                    annotation = annotations.get(given.value.id)
                    holder = annotation.id if isinstance(annotation, ast.Name) else None
                    if holder in classes and "action" in classes[holder] and holder not in takers:
                        takers[holder] = classes[holder].index("action")
                        grown = True
    return takers


def _enum_values(sources: list[_Source], name: str) -> list[str] | None:
    for source in sources:
        for node in ast.walk(source.tree):
            if isinstance(node, ast.ClassDef) and node.name == name:
                return [
                    item.value.value
                    for item in node.body
                    if isinstance(item, ast.Assign)
                    and isinstance(item.value, ast.Constant)
                    and isinstance(item.value.value, str)
                ]
    return None


class Unreadable(Exception):
    pass


def _values(
    sources: list[_Source], source: _Source, expression: ast.expr, function: ast.AST | None
) -> set[str] | None:
    """The strings `expression` may be; None when it passes on an action given to
    the function it is in (that function's own callers are read instead)."""
    if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
        return {expression.value}
    if isinstance(expression, ast.IfExp):
        body = _values(sources, source, expression.body, function)
        orelse = _values(sources, source, expression.orelse, function)
        return (body or set()) | (orelse or set())
    if isinstance(expression, ast.Attribute) and expression.attr == "action":
        return None  # e.g. `entry.action`: the class that holds it is read instead
    if isinstance(expression, ast.Name) and isinstance(
        function, ast.FunctionDef | ast.AsyncFunctionDef
    ):
        arguments = function.args.posonlyargs + function.args.args + function.args.kwonlyargs
        if expression.id == "action" and expression.id in [a.arg for a in arguments]:
            return None  # passed on: the function takes an action of its own
        assigned = _assigned(sources, source, function, expression.id)
        if assigned:
            return assigned
    if isinstance(expression, ast.JoinedStr) and isinstance(
        function, ast.FunctionDef | ast.AsyncFunctionDef
    ):
        return _expanded(sources, expression, function)
    raise Unreadable(ast.unparse(expression))


def _assigned(sources: list[_Source], source: _Source, function: ast.AST, name: str) -> set[str]:
    values: set[str] = set()
    for node in ast.walk(function):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if isinstance(target, ast.Name) and target.id == name:
                values |= _values(sources, source, node.value, function) or set()
            elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                for item, value in zip(target.elts, node.value.elts, strict=False):
                    if isinstance(item, ast.Name) and item.id == name:
                        values |= _values(sources, source, value, function) or set()
    return values


def _expanded(
    sources: list[_Source],
    expression: ast.JoinedStr,
    function: ast.FunctionDef | ast.AsyncFunctionDef,
) -> set[str]:
    """An f-string over an argument whose type is a StrEnum: one action per member."""
    results = [""]
    annotations = {
        a.arg: a.annotation
        for a in function.args.posonlyargs + function.args.args + function.args.kwonlyargs
    }
    for piece in expression.values:
        if isinstance(piece, ast.Constant):
            results = [r + str(piece.value) for r in results]
            continue
        assert isinstance(piece, ast.FormattedValue)
        annotation = annotations.get(piece.value.id) if isinstance(piece.value, ast.Name) else None
        members = _enum_values(sources, annotation.id) if isinstance(annotation, ast.Name) else None
        if not members:
            raise Unreadable(ast.unparse(expression))
        results = [r + member for r in results for member in members]
    return set(results)


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _resolved_callee(source: _Source, call: ast.Call) -> str | None:
    """The name called; for `cls(...)`, the class it is called in."""
    name = _callee(call)
    if name == "cls":
        owner = _enclosing(source, call, ast.ClassDef)
        return owner.name if isinstance(owner, ast.ClassDef) else None
    return name


def _defaults(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.expr]:
    """The default value of the function's `action` argument, if it has one."""
    arguments = function.args
    positional = arguments.posonlyargs + arguments.args
    pairs = list(
        zip(
            positional[len(positional) - len(arguments.defaults) :], arguments.defaults, strict=True
        )
    )
    pairs += [
        (a, d)
        for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
        if d is not None
    ]
    return [default for argument, default in pairs if argument.arg == "action"]


def recorded_actions() -> Iterator[Recorded]:
    """Every action string the source records, with where."""
    sources = _sources()
    takers = _action_takers(sources)
    for source in sources:
        for node in ast.walk(source.tree):
            # A function that records the action it is given, unless told another.
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in takers:
                for default in _defaults(node):
                    if isinstance(default, ast.Constant) and isinstance(default.value, str):
                        where = f"{source.path.relative_to(ROOT)}:{node.lineno}"
                        yield Recorded(default.value, where)
            if not isinstance(node, ast.Call):
                continue
            name = _resolved_callee(source, node)
            if name not in takers:
                continue
            expression = next((k.value for k in node.keywords if k.arg == "action"), None)
            position = takers[name]
            if expression is None and position is not None and len(node.args) > position:
                expression = node.args[position]
            if expression is None:
                continue
            function = _enclosing(source, node, (ast.FunctionDef, ast.AsyncFunctionDef))
            where = f"{source.path.relative_to(ROOT)}:{node.lineno}"
            try:
                values = _values(sources, source, expression, function)
            except Unreadable as exc:
                pytest.fail(f"{where}: cannot tell which action {exc} records; record a string")
            for value in values or ():
                # Other arguments called `action` (a form's target address) are no action.
                if ACTION.match(value):
                    yield Recorded(value, where)


def test_every_recorded_action_has_a_sentence() -> None:
    recorded = list(recorded_actions())
    found = {r.action for r in recorded}
    # The reading works: actions recorded in each of the ways the source records them.
    assert {
        "feedback.published",  # audit.record(action="...")
        "staff.invited",  # audit.by_staff(...)
        "thread.assigned",  # _audit(db, act, thread, "thread.assigned", ...)
        "saved_answer.created",  # action = "..." then action=action
        "session.signed_out",  # kind, actor_id, action = "...", ..., "..."
        "staff.invitation_accepted",  # SignIn.staff(..., action="...")
        "session.signed_in",  # cls("session.signed_in", ...)
        "link.reused",  # "..." if ... else "..."
        "pool.joined",  # f"pool.{kind}" over ConsentEventKind
        "pool.expired",
        "staff.deactivated",
    } <= found
    missing = sorted({f"{r.action} ({r.where})" for r in recorded if r.action not in SENTENCES})
    assert not missing, "give these actions a sentence in portal/audit/sentences.py:\n" + "\n".join(
        missing
    )


# Every placeholder a sentence may use, filled.
NAMES = {
    "actor": Named("Priya Raman", Link("staff.person", (("staff_user_id", 1),))),
    "person": Named("Jo Park", Link("staff.person", (("staff_user_id", 2),))),
    "assignee": Named("Amir Haddad", Link("staff.person", (("staff_user_id", 3),))),
    "candidate": Named("Sam Lee"),
    "job": Named("Data Analyst", Link("staff.job", (("job_id", 4),))),
    "application": Named(
        "Sam Lee's application for Data Analyst",
        Link("staff.application", (("application_id", 5),)),
    ),
    "position": Named("Data Analyst", Link("staff.application", (("application_id", 5),))),
    "thread": Named(
        "Sam Lee's question about Data Analyst", Link("staff.thread", (("thread_id", 6),))
    ),
    "membership": Named("Sam Lee's talent-pool membership"),
    "saved_answer": Named("“Thanks”"),
    "requirement": Named("“SQL”"),
    "organization": Named("Acme"),
    "settings": Named("the organization's settings"),
    "pool_settings": Named("the talent-pool settings"),
    "consent_text": Named("the talent-pool consent text"),
    "subject": Named("Sam Lee's application for Data Analyst"),
}
# Details that choose between a sentence's wordings.
DETAILS: list[dict[str, object]] = [
    {},
    {"via": "invitation", "purpose": "invitation", "method": "password", "role": "admin"},
    {"via": "sign_in", "purpose": "sign_in", "method": "single_sign_on", "to": "recruiter"},
    {"reason": "wrong_password", "fields": ["display_name", "time_zone"], "version": 3},
    {"reason": "provider:access_denied", "published": True, "rows": 12, "file": "a.csv"},
    {"reason": "nonce", "to": "", "assignee": None, "comment": "Shorter, please."},
    {"to": {"time_zone": "Europe/Berlin"}, "fields": ["time_zone"], "assignee": 3},
    {"sent": [1, 2], "skipped": [3], "rows": 1, "reason": "expired"},
]


@pytest.mark.parametrize("action", sorted(SENTENCES))
def test_each_sentence_reads_as_a_sentence(action: str) -> None:
    for details in DETAILS:
        parts = render(action, details, NAMES)
        text = plain(parts)
        assert "{" not in text and "}" not in text, (action, details, text)
        assert "something" not in text and "someone" not in text, (action, details, text)
        assert not any(words in text for words in UNNAMED.values()), (action, details, text)
        assert text[:1].isupper(), (action, text)
        assert "  " not in text and not text.endswith((" ", ".")), (action, text)
        # The names are links where they have a page.
        if "{actor}" in str(SENTENCES[action]) or callable(SENTENCES[action]):
            assert any(p.link for p in parts) or action.startswith(("link.", "staff.sign_in"))


def test_the_sentences_of_the_examples() -> None:
    assert plain(render("feedback.published", {}, NAMES)) == (
        "Priya Raman published feedback on Sam Lee's application for Data Analyst"
    )
    assert plain(render("staff.invited", {"role": "recruiter"}, NAMES)) == (
        "Priya Raman invited Jo Park as a recruiter"
    )
    asked = render("thread.question_asked", {}, {**NAMES, "actor": Named("Sam Lee")})
    assert plain(asked) == "Sam Lee asked a question about their application for Data Analyst"
    assert Part("a question", NAMES["thread"].link) in asked
    assert plain(render("link.issued", {"purpose": "sign_in"}, NAMES)) == (
        "Priya Raman emailed Sam Lee a sign-in link"
    )
    assert plain(render("staff.sign_in_failed", {"reason": "inactive"}, NAMES)) == (
        "A sign-in as Jo Park failed: the account is deactivated"
    )
    # With nothing to name: general words.
    unknown = {"actor": Named("someone not signed in", ours=True)}
    assert plain(render("staff.sign_in_failed", {"reason": "unknown"}, unknown)) == (
        "A sign-in as an unknown account failed: no account has that email address"
    )
    assert plain(render("link.unknown", {}, unknown)) == (
        "Someone not signed in tried a link that Afterword never issued"
    )


def test_an_action_without_a_sentence_reads_as_its_name() -> None:
    assert readable("job.archived_for_good") == "Job archived for good"
    text = plain(render("job.archived_for_good", {}, NAMES))
    assert text == "Priya Raman: job archived for good (Sam Lee's application for Data Analyst)"
    alone = plain(render("globex.secret_action", {}, {"actor": Named("Afterword")}))
    assert alone == "Afterword: globex secret action"


def test_a_deleted_subject_says_so_without_a_link() -> None:
    gone = Named("a deleted application", deleted=True)
    parts = render("feedback.published", {}, {**NAMES, "application": gone})
    assert plain(parts) == "Priya Raman published feedback on a deleted application"
    assert [p.text for p in parts if p.link] == ["Priya Raman"]
    titled = Named("“Thanks”", note=" (since deleted)", deleted=True)
    changed = render("saved_answer.changed", {}, {**NAMES, "saved_answer": titled})
    assert plain(changed) == "Priya Raman changed the saved answer “Thanks” (since deleted)"
    deleted = render("saved_answer.deleted", {}, {**NAMES, "saved_answer": titled})
    assert plain(deleted) == "Priya Raman deleted the saved answer “Thanks”"
    # Other words for a deleted record keep no link and say it is gone.
    left = render("pool.left", {}, {**NAMES, "membership": Named("x", deleted=True)})
    assert plain(left) == "Priya Raman left the talent pool (since deleted)"
    assert [p.text for p in left if p.link] == ["Priya Raman"]


def test_typed_text_is_never_read_as_a_placeholder() -> None:
    text = plain(render("thread.closed", {"reason": "{actor} {job}"}, NAMES))
    assert text == "Priya Raman closed Sam Lee's question about Data Analyst: “{actor} {job}”"
