package graphql

import (
	"github.com/99designs/gqlgen/graphql"

	"github.com/rosterhq/roster"
)

// userUpdate reads the fields an update gives. null clears displayName
// and externalId, as it does in REST; on the other fields it is refused.
func userUpdate(in UpdateUserInput) (roster.UserUpdate, error) {
	var upd roster.UserUpdate
	var fields []roster.FieldError
	required := func(name string, v graphql.Omittable[*string]) *string {
		if v.IsSet() && v.Value() == nil {
			fields = append(fields, roster.FieldError{Field: name, Message: "must not be null"})
		}
		return v.Value()
	}
	upd.Email = required("email", in.Email)
	upd.UserName = required("userName", in.UserName)
	upd.GivenName = required("givenName", in.GivenName)
	upd.FamilyName = required("familyName", in.FamilyName)
	upd.Role = required("role", in.Role)
	if in.DisplayName.IsSet() {
		empty := ""
		upd.DisplayName = in.DisplayName.Value()
		if upd.DisplayName == nil {
			upd.DisplayName = &empty
		}
	}
	upd.ClearExternalID = in.ExternalID.IsSet() && in.ExternalID.Value() == nil
	upd.ExternalID = in.ExternalID.Value()
	if in.Active.IsSet() && in.Active.Value() == nil {
		fields = append(fields, roster.FieldError{Field: "active", Message: "must not be null"})
	}
	upd.Active = in.Active.Value()
	if len(fields) > 0 {
		return upd, roster.Invalid(fields...)
	}
	return upd, nil
}

// createUpdate reads a new user's fields as an update of roster.NewUser.
func createUpdate(in CreateUserInput) (roster.UserUpdate, error) {
	return userUpdate(UpdateUserInput{
		Email: graphql.OmittableOf(&in.Email), UserName: in.UserName, GivenName: in.GivenName,
		FamilyName: in.FamilyName, DisplayName: in.DisplayName, ExternalID: in.ExternalID,
		Role: in.Role, Active: in.Active,
	})
}
