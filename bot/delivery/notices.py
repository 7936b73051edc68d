"""What a run that gave up says in its channel, in the subscription's language (DESIGN §7:
nothing lost in silence). The reason comes in words already (bot/chat/messages.py makes them;
they reach delivery as an injected function, since delivery never imports chat)."""

from __future__ import annotations

from digest.models import Language

_GAVE_UP: dict[Language, str] = {
    "zh": (
        "⚠️ {repo} 在 {period} 的摘要未能发出：{reason} 已尝试 {attempts} 次。"
        "发送 `/digest now` 可重新生成。"
    ),
    "en": (
        "⚠️ The digest of {repo} for {period} could not be posted: {reason} "
        "It was tried {attempts} times. `/digest now` makes it again."
    ),
}


def gave_up_notice(language: Language, repo: str, period: str, reason: str, attempts: int) -> str:
    """One short message: what was not posted, why (one sentence), and how to get it anyway."""
    reason = reason.strip()
    if reason and reason[-1] not in ".。!?！？":
        reason += "." if language != "zh" else "。"
    template = _GAVE_UP.get(language, _GAVE_UP["en"])
    return template.format(repo=repo, period=period, reason=reason, attempts=attempts)


def plain_reason(exc: BaseException) -> str:
    """The reason when nobody supplied words for it: the error's kind, never its details."""
    return f"an internal error ({type(exc).__name__})"
