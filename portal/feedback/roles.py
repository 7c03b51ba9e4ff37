"""The suggested roles as people write them: one a line, each optionally followed by
the web address of its job posting ("Junior Analyst https://jobs.example.com/1").

The editor's roles field and the CSV import's `suggested_roles` cell read the same
way."""

from __future__ import annotations

from dataclasses import dataclass

from portal.forms import URL_MAX, WEB_ADDRESS


@dataclass(frozen=True)
class SuggestedRoles:
    """A roles field read: the roles, the addresses of those that have one, where
    each role starts in the text, and what is wrong with it (empty when nothing)."""

    roles: tuple[str, ...]
    urls: dict[str, str]
    offsets: tuple[int, ...]  # where each role starts in the field
    problem: str = ""

    @classmethod
    def read(cls, text: str) -> SuggestedRoles:
        roles: list[str] = []
        urls: dict[str, str] = {}
        offsets: list[int] = []
        position = 0
        for number, line in enumerate(text.split("\n"), start=1):
            stripped = line.strip()
            if stripped:
                *title, last = stripped.rsplit(None, 1)
                if WEB_ADDRESS.match(last):
                    if not title:
                        return cls(
                            (), {}, (), f"Line {number}: write the role's title before its address."
                        )
                    if len(last) > URL_MAX:
                        return cls((), {}, (), f"Line {number}: the address is too long.")
                    stripped = title[0].rstrip()
                    urls[stripped] = last
                roles.append(stripped)
                offsets.append(position + line.index(stripped))
            position += len(line) + 1
        return cls(tuple(roles), urls, tuple(offsets))
