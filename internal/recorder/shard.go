package recorder

import (
	"sync"
	"sync/atomic"
)

// ShardPicker hands out shard indexes with processor affinity and without linkname: tokens live
// in a sync.Pool, whose per-P private slot gives each P the same token back request after
// request. Callers that already pool a per-request object keep a shard index in it instead.
type ShardPicker struct {
	next atomic.Uint32
	pool sync.Pool
}

// Token is a shard index on loan from a ShardPicker.
type Token struct{ Shard int }

// Get borrows a token; give it back with Put.
func (p *ShardPicker) Get() *Token {
	if t, ok := p.pool.Get().(*Token); ok {
		return t
	}
	return &Token{Shard: p.NextShard()}
}

// Put returns a token.
func (p *ShardPicker) Put(t *Token) { p.pool.Put(t) }

// NextShard returns shard indexes round-robin, for new pooled objects.
func (p *ShardPicker) NextShard() int { return int(p.next.Add(1)) }
