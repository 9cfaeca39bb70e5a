package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/rosterhq/roster"
)

// teamStatsTTL is how long the figures of a large team are served once
// counted. Counting a subtree of 200,000 members reads most of the users
// table (about a second of PostgreSQL at 1,000,000 users); a dashboard
// refreshed by several people, or every minute, would otherwise count it
// again each time. The answer's AsOf says when it was counted.
const teamStatsTTL = time.Minute

// teamStatsMax bounds the selections the cache holds.
const teamStatsMax = 1_000

// teamStatsCache holds the figures of large teams' subtrees briefly, and
// counts each at most once at a time however many ask together.
type teamStatsCache struct {
	mu      sync.Mutex
	entries map[string]cachedTeamStats
	counts  singleflight.Group
}

type cachedTeamStats struct {
	stats *roster.UserStats
	until time.Time
}

// teamStatsKey names what a team selection counts: the tenant, the team,
// the filter and a bounded caller's scope.
func teamStatsKey(tenantID string, f roster.StatsFilter) string {
	active := "any"
	if f.Active != nil {
		active = fmt.Sprint(*f.Active)
	}
	scope := "all"
	if !f.Scope.All() {
		teams := slices.Clone(f.Scope.Teams)
		slices.Sort(teams)
		scope = strings.Join(teams, ",")
	}
	return strings.Join([]string{tenantID, f.Team, f.Role, active, scope}, "|")
}

// get returns the stats of key counted less than teamStatsTTL before now,
// counting them with count when there are none; concurrent callers of one
// key share a count.
func (c *teamStatsCache) get(ctx context.Context, key string, now time.Time, count func(context.Context) (*roster.UserStats, error)) (*roster.UserStats, error) {
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.stats, nil
	}
	v, err, _ := c.counts.Do(key, func() (any, error) {
		st, err := count(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.entries == nil || len(c.entries) >= teamStatsMax {
			c.entries = map[string]cachedTeamStats{}
		}
		c.entries[key] = cachedTeamStats{stats: st, until: st.AsOf.Add(teamStatsTTL)}
		return st, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*roster.UserStats), nil
}
