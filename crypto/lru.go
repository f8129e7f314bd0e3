package crypto

import (
	"container/list"
	"crypto/cipher"
	"sync"
)

// lru is a bounded least-recently-used cache of unwrapped data keys, held as
// ready AEADs. Once cleared it stays empty.
type lru struct {
	mu      sync.Mutex
	max     int
	order   *list.List // front: most recently used; values are *lruEntry
	items   map[keyID]*list.Element
	cleared bool
}

type lruEntry struct {
	id   keyID
	aead cipher.AEAD
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: make(map[keyID]*list.Element)}
}

func (c *lru) get(id keyID) (cipher.AEAD, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[id]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruEntry).aead, true
}

func (c *lru) add(id keyID, a cipher.AEAD) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cleared {
		return
	}
	if e, ok := c.items[id]; ok {
		e.Value.(*lruEntry).aead = a
		c.order.MoveToFront(e)
		return
	}
	c.items[id] = c.order.PushFront(&lruEntry{id: id, aead: a})
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.items, old.Value.(*lruEntry).id)
	}
}

func (c *lru) remove(id keyID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[id]; ok {
		c.order.Remove(e)
		delete(c.items, id)
	}
}

func (c *lru) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cleared = true
	c.order.Init()
	clear(c.items)
}
