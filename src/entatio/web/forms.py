"""The input of the web pages; views parse it here and hand it to the apps."""

from typing import Any

from django import forms

from entatio.people.models import Member, Portal, SharingGroup


class UploadForm(forms.Form):
    file = forms.FileField()
    title = forms.CharField(max_length=300, required=False)
    password = forms.CharField(max_length=200, required=False, strip=False)


class PresentationTitleForm(forms.Form):
    title = forms.CharField(max_length=300)


class SlideForm(forms.Form):
    title = forms.CharField(max_length=300, required=False)
    description = forms.CharField(required=False, widget=forms.Textarea)


class HiddenForm(forms.Form):
    hidden = forms.BooleanField(required=False)


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


class OrderForm(forms.Form):
    order = forms.CharField(help_text="Slide ids in their new order, comma separated")

    def clean_order(self) -> list[int]:
        try:
            return [int(part) for part in self.cleaned_data["order"].split(",")]
        except ValueError as error:
            raise forms.ValidationError("The order must list slide ids.") from error


class MemberChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        if obj.display_name == obj.email:
            return obj.email
        return f"{obj.display_name} ({obj.email})"


class ShareWithGroupForm(forms.Form):
    group = forms.ModelChoiceField(queryset=SharingGroup.objects.none())

    def __init__(self, portal: Portal, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["group"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = SharingGroup.objects.filter(portal=portal).order_by("name")


class NewGroupForm(forms.Form):
    name = forms.CharField(max_length=200, label="Group name")
    members = MemberChoiceField(
        queryset=Member.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, portal: Portal, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["members"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = Member.objects.filter(portal=portal).order_by(
            "first_name", "last_name", "email"
        )


def first_error(form: forms.Form) -> str:
    """One sentence for a script to show next to the form."""
    for name, errors in form.errors.items():
        if name not in form.fields:
            return str(errors[0])
        label = str(form.fields[name].label or name.replace("_", " "))
        return f"{label.capitalize()}: {errors[0]}"
    return "The form is not valid."
