"""The API's resources, one class each, reached as `client.accounts` and so on."""

from backoffice_sdk.resources.accounts import Accounts
from backoffice_sdk.resources.reports import Reports
from backoffice_sdk.resources.transactions import Transactions
from backoffice_sdk.resources.users import Users
from backoffice_sdk.resources.webhooks import Webhooks

__all__ = ["Accounts", "Reports", "Transactions", "Users", "Webhooks"]
