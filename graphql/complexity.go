package graphql

import "github.com/rosterhq/roster"

// securityCost is what a user's security information costs beyond its
// fields: it reads the user's sign-in state and sessions one user at a
// time.
const securityCost = 20

// complexityRoot prices the fields whose cost is not one plus their
// children's: lists cost their children times the page size asked for.
func complexityRoot() ComplexityRoot {
	var c ComplexityRoot
	c.Query.Users = func(child int, first *int, _ *string, _ *UserFilter, _ *UserOrder) int {
		return pageCost(first, child)
	}
	c.Query.Invitations = func(child int, _ *InvitationStatus, first *int, _ *string) int {
		return pageCost(first, child)
	}
	c.Query.AuditEvents = func(child int, _, _, _ *string, first *int, _ *string) int {
		return pageCost(first, child)
	}
	c.Query.Groups = func(child int, first *int, _ *string) int {
		return pageCost(first, child)
	}
	c.User.Security = func(child int) int { return securityCost + child }
	return c
}

// pageCost is a list's cost: its children's times its page size, the
// default one when first is not given (a bad first is refused later).
func pageCost(first *int, child int) int {
	n := roster.DefaultPageSize
	if first != nil && roster.ValidPageSize(*first) {
		n = *first
	}
	return 1 + n*child
}
