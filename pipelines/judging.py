"""Who may judge a manual judgment: EXECUTE on the application (checked by the caller) and,
when the stage names roles, membership of one of them. Unlike Orca, a refusal says why."""


def may_judge(user, roles: list[str]) -> tuple[bool, str]:
    if not roles or user.is_superuser:
        return True, ""
    held = set(user.groups.filter(name__in=roles).values_list("name", flat=True))
    if held:
        return True, ""
    return False, (
        f"Only members of {', '.join(sorted(roles))} may judge this stage, "
        f"and {user.get_username()} is in none of them."
    )
