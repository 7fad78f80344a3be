from app.bootstrap import Services
from tests.factories import Factories


def test_register_and_read_back(services: Services, factories: Factories) -> None:
    user = factories.user(email="Someone@Example.com")
    assert services.users.get(user.id).email == "someone@example.com"
