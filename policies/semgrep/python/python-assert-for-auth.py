def delete_project(request, project):
    # ruleid: python-assert-for-auth
    assert request.user.is_authenticated
    # ruleid: python-assert-for-auth
    assert request.user.has_perm("projects.delete_project"), "forbidden"
    # ruleid: python-assert-for-auth
    assert project.owner_id == current_user.id
    project.delete()


def change_password(user, old, new):
    # ruleid: python-assert-for-auth
    assert user.check_password(old)
    user.set_password(new)


def normalise(items, limit):
    # ok: python-assert-for-auth
    assert isinstance(items, list)
    # ok: python-assert-for-auth
    assert limit > 0, "limit must be positive"
    # ok: python-assert-for-auth
    if not items:
        raise PermissionError("not authorized")
    return items[:limit]
