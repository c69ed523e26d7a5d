"""factory_boy factories shared by the whole suite; each app's issue adds its own here."""

import factory
from django.contrib.auth import get_user_model


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class ResearcherFactory(UserFactory):
    username = factory.Sequence(lambda n: f"researcher{n}")
    is_staff = True
