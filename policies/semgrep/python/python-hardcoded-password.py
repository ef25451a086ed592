import os

import psycopg

# ruleid: python-hardcoded-password
DB_PASSWORD = "s3cr3t-Pa55"
# ruleid: python-hardcoded-password
api_key = "sk_live_51HrT0kEn"


class Settings:
    # ruleid: python-hardcoded-password
    secret_key = "django-insecure-abc123"


def connect(host):
    # ruleid: python-hardcoded-password
    return psycopg.connect(host=host, user="gate", password="hunter2")


def configure(settings):
    # ruleid: python-hardcoded-password
    settings.admin_password = "changeme"


# ok: python-hardcoded-password
DB_PASSWORD_ENV = "RELEASEGATE_DB_PASSWORD"
# ok: python-hardcoded-password
db_password = os.environ["DB_PASSWORD"]
# ok: python-hardcoded-password
password = ""
# ok: python-hardcoded-password
PASSWORD = "password"
# ok: python-hardcoded-password
token = "${GITHUB_TOKEN}"
# ok: python-hardcoded-password
secret = "RELEASEGATE_SECRET"


def connect_safely(host):
    # ok: python-hardcoded-password
    return psycopg.connect(host=host, user="gate", password=os.environ["PGPASSWORD"])
