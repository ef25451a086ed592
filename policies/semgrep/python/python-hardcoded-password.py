import os

import psycopg

# ruleid: python-hardcoded-password
DB_PASSWORD = "s3cr3t-Pa55"
# ruleid: python-hardcoded-password
api_key = "sk_live_51HrT0kEn"
# ruleid: python-hardcoded-password
GITHUB_TOKEN = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"


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
access_token = "${GITHUB_TOKEN}"
# ok: python-hardcoded-password
secret = "RELEASEGATE_SECRET"
# ok: python-hardcoded-password
masked_password = ":****"
# ok: python-hardcoded-password
private_key = "/etc/releasegate/signing.pem"
# ok: python-hardcoded-password
db_secret = "postgres-credentials"
# ok: python-hardcoded-password
end_token = "}"


def connect_safely(host):
    # ok: python-hardcoded-password
    return psycopg.connect(host=host, user="gate", password=os.environ["PGPASSWORD"])
