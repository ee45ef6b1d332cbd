// Package quotertest gives tests of any package a real quote library: a
// temporary SQLite file seeded with a varied sample of quotes. Frontends test
// against it rather than against a mock, so what they see is what they get
// in production.
package quotertest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/sqlite"
)

// Seed is the shuffle seed of libraries made by NewLibrary, so the quote of
// the day in a test is the same on every run.
const Seed = 1

// NewLibrary returns a library in a new temporary file, seeded with qs or,
// when qs is empty, with Sample(). The library is closed when the test ends.
func NewLibrary(tb testing.TB, qs ...quoter.Quote) *sqlite.DB {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "quotes.db")
	db, err := sqlite.Open(path, sqlite.Create(), sqlite.WithSeed(Seed))
	if err != nil {
		tb.Fatalf("quotertest: open library: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("quotertest: close library: %v", err)
		}
	})
	if len(qs) == 0 {
		qs = Sample()
	}
	res, err := db.Import(context.Background(), qs, nil)
	if err != nil {
		tb.Fatalf("quotertest: seed library: %v", err)
	}
	if res.Added != len(qs) {
		tb.Fatalf("quotertest: seeded %d of %d quotes (%d duplicates)", res.Added, len(qs), res.Skipped)
	}
	return db
}

// Script is the text of the sample quote that tries to inject markup; pages,
// feeds and mail must show it as text.
const Script = `Beware of <script>alert(1)</script> and of "quotes" & ampersands in <b>quotes</b>; it's <i>all</i> text.`

// Long is the text of the sample quote near MaxTextLen, for tests of
// length limits (splitting, truncation, "fits in 512 bytes").
var Long = strings.TrimSuffix(strings.Repeat("All work and no play makes Jack a dull boy.\n", 92), "\n")

// Gettysburg is the longest real quote in the sample, in three paragraphs.
const Gettysburg = `Four score and seven years ago our fathers brought forth on this continent, a new nation, conceived in Liberty, and dedicated to the proposition that all men are created equal.

Now we are engaged in a great civil war, testing whether that nation, or any nation so conceived and so dedicated, can long endure. We are met on a great battle-field of that war. We have come to dedicate a portion of that field, as a final resting place for those who here gave their lives that that nation might live. It is altogether fitting and proper that we should do this.

But, in a larger sense, we can not dedicate — we can not consecrate — we can not hallow — this ground. The brave men, living and dead, who struggled here, have consecrated it, far above our poor power to add or detract. The world will little note, nor long remember what we say here, but it can never forget what they did here. It is for us the living, rather, to be dedicated here to the unfinished work which they who fought here have thus far so nobly advanced. It is rather for us to be here dedicated to the great task remaining before us — that from these honored dead we take increased devotion to that cause for which they gave the last full measure of devotion — that we here highly resolve that these dead shall not have died in vain — that this nation, under God, shall have a new birth of freedom — and that government of the people, by the people, for the people, shall not perish from the earth.`

// Sample returns about forty public-domain quotes with their attribution,
// chosen to exercise every frontend: one-liners and a quote near
// MaxTextLen, verse on several lines, text in French, German, Italian,
// Spanish, Latin and Japanese, curly quotes, dashes and accents, and one
// test fixture full of markup (see Script). Each call returns a fresh slice.
func Sample() []quoter.Quote {
	return []quoter.Quote{
		{Text: "Brevity is the soul of wit.", Author: "William Shakespeare", Source: "Hamlet", Tags: []string{"wit", "writing"}, Lang: "en"},
		{Text: "To be, or not to be, that is the question:\nWhether ’tis nobler in the mind to suffer\nThe slings and arrows of outrageous fortune,\nOr to take arms against a sea of troubles,\nAnd by opposing end them.", Author: "William Shakespeare", Source: "Hamlet", Tags: []string{"life", "poetry"}, Lang: "en"},
		{Text: "All the world’s a stage,\nAnd all the men and women merely players;\nThey have their exits and their entrances,\nAnd one man in his time plays many parts.", Author: "William Shakespeare", Source: "As You Like It", Tags: []string{"life", "poetry"}, Lang: "en"},
		{Text: "Simplify, simplify.", Author: "Henry David Thoreau", Source: "Walden", Year: 1854, Tags: []string{"simplicity"}, Lang: "en"},
		{Text: "The mass of men lead lives of quiet desperation.", Author: "Henry David Thoreau", Source: "Walden", Year: 1854, Tags: []string{"life"}, Lang: "en"},
		{Text: "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it was the season of Darkness, it was the spring of hope, it was the winter of despair, we had everything before us, we had nothing before us, we were all going direct to Heaven, we were all going direct the other way—in short, the period was so far like the present period, that some of its noisiest authorities insisted on its being received, for good or for evil, in the superlative degree of comparison only.", Author: "Charles Dickens", Source: "A Tale of Two Cities", Year: 1859, Tags: []string{"history", "writing"}, Lang: "en"},
		{Text: "“Please, sir, I want some more.”", Author: "Charles Dickens", Source: "Oliver Twist", Year: 1838, Tags: []string{"hunger"}, Lang: "en"},
		{Text: "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.", Author: "Jane Austen", Source: "Pride and Prejudice", Year: 1813, Tags: []string{"love", "wit"}, Lang: "en"},
		{Text: "“Hope” is the thing with feathers —\nThat perches in the soul —\nAnd sings the tune without the words —\nAnd never stops — at all —", Author: "Emily Dickinson", Source: "“Hope” is the thing with feathers", Tags: []string{"hope", "poetry"}, Lang: "en"},
		{Text: "The report of my death was an exaggeration.", Author: "Mark Twain", Source: "New York Journal", Year: 1897, Tags: []string{"wit", "death"}, Lang: "en"},
		{Text: "I can resist everything except temptation.", Author: "Oscar Wilde", Source: "Lady Windermere’s Fan", Year: 1892, Tags: []string{"wit"}, Lang: "en"},
		{Text: "We are all in the gutter, but some of us are looking at the stars.", Author: "Oscar Wilde", Source: "Lady Windermere’s Fan", Year: 1892, Tags: []string{"hope"}, Lang: "en"},
		{Text: "In this world nothing can be said to be certain, except death and taxes.", Author: "Benjamin Franklin", Source: "Letter to Jean-Baptiste Le Roy", Year: 1789, Tags: []string{"death", "wit"}, Lang: "en"},
		{Text: "We hold these truths to be self-evident, that all men are created equal, that they are endowed by their Creator with certain unalienable Rights, that among these are Life, Liberty and the pursuit of Happiness.", Author: "Thomas Jefferson", Source: "Declaration of Independence", Year: 1776, Tags: []string{"freedom", "politics"}, Lang: "en"},
		{Text: "A house divided against itself cannot stand.", Author: "Abraham Lincoln", Source: "House Divided speech", Year: 1858, Tags: []string{"politics"}, Lang: "en"},
		{Text: Gettysburg, Author: "Abraham Lincoln", Source: "Gettysburg Address", Year: 1863, Tags: []string{"freedom", "politics", "history"}, Lang: "en"},
		{Text: "Why, sometimes I’ve believed as many as six impossible things before breakfast.", Author: "Lewis Carroll", Source: "Through the Looking-Glass", Year: 1871, Tags: []string{"imagination"}, Lang: "en"},
		{Text: "“Curiouser and curiouser!” cried Alice.", Author: "Lewis Carroll", Source: "Alice’s Adventures in Wonderland", Year: 1865, Tags: []string{"imagination"}, Lang: "en"},
		{Text: "If I have seen further it is by standing on the shoulders of Giants.", Author: "Isaac Newton", Source: "Letter to Robert Hooke", Year: 1676, Tags: []string{"science"}, Lang: "en"},
		{Text: "A foolish consistency is the hobgoblin of little minds.", Author: "Ralph Waldo Emerson", Source: "Self-Reliance", Year: 1841, Tags: []string{"philosophy"}, Lang: "en"},
		{Text: "Do I contradict myself?\nVery well then I contradict myself,\n(I am large, I contain multitudes.)", Author: "Walt Whitman", Source: "Song of Myself", Tags: []string{"poetry"}, Lang: "en"},
		{Text: "Quoth the Raven “Nevermore.”", Author: "Edgar Allan Poe", Source: "The Raven", Year: 1845, Tags: []string{"poetry", "death"}, Lang: "en"},
		{Text: "A thing of beauty is a joy for ever.", Author: "John Keats", Source: "Endymion", Year: 1818, Tags: []string{"beauty", "poetry"}, Lang: "en"},
		{Text: "To see a World in a Grain of Sand\nAnd a Heaven in a Wild Flower,\nHold Infinity in the palm of your hand\nAnd Eternity in an hour.", Author: "William Blake", Source: "Auguries of Innocence", Tags: []string{"poetry", "beauty"}, Lang: "en"},
		{Text: "To err is human, to forgive divine.", Author: "Alexander Pope", Source: "An Essay on Criticism", Year: 1711, Tags: []string{"forgiveness"}, Lang: "en"},
		{Text: "No man is an island, entire of itself.", Author: "John Donne", Source: "Devotions upon Emergent Occasions", Year: 1624, Tags: []string{"life"}, Lang: "en"},
		{Text: "All happy families are alike; each unhappy family is unhappy in its own way.", Author: "Leo Tolstoy", Source: "Anna Karenina (tr. Constance Garnett)", Year: 1878, Tags: []string{"family", "writing"}, Lang: "en"},
		{Text: "Beware; for I am fearless, and therefore powerful.", Author: "Mary Shelley", Source: "Frankenstein", Year: 1818, Tags: []string{"courage"}, Lang: "en"},
		{Text: "The unexamined life is not worth living.", Author: "Socrates", Source: "Plato, Apology (tr. Benjamin Jowett)", Year: -399, Tags: []string{"philosophy", "life"}, Lang: "en"},
		{Text: "Learning without thought is labour lost; thought without learning is perilous.", Author: "Confucius", Source: "Analects (tr. James Legge)", Tags: []string{"philosophy", "learning"}, Lang: "en"},
		{Text: "All warfare is based on deception.", Author: "Sun Tzu", Source: "The Art of War (tr. Lionel Giles)", Tags: []string{"war"}, Lang: "en"},
		{Text: "L’homme est né libre, et partout il est dans les fers.", Author: "Jean-Jacques Rousseau", Source: "Du contrat social", Year: 1762, Tags: []string{"freedom", "politics"}, Lang: "fr"},
		{Text: "Je pense, donc je suis.", Author: "René Descartes", Source: "Discours de la méthode", Year: 1637, Tags: []string{"philosophy"}, Lang: "fr"},
		{Text: "Ich bin ein Teil von jener Kraft,\nDie stets das Böse will und stets das Gute schafft.", Author: "Johann Wolfgang von Goethe", Source: "Faust", Year: 1808, Tags: []string{"poetry"}, Lang: "de"},
		{Text: "Was mich nicht umbringt, macht mich stärker.", Author: "Friedrich Nietzsche", Source: "Götzen-Dämmerung", Year: 1889, Tags: []string{"courage", "philosophy"}, Lang: "de"},
		{Text: "Nel mezzo del cammin di nostra vita\nmi ritrovai per una selva oscura,\nché la diritta via era smarrita.", Author: "Dante Alighieri", Source: "Inferno", Tags: []string{"poetry", "life"}, Lang: "it"},
		{Text: "En un lugar de la Mancha, de cuyo nombre no quiero acordarme, no ha mucho tiempo que vivía un hidalgo de los de lanza en astillero, adarga antigua, rocín flaco y galgo corredor.", Author: "Miguel de Cervantes", Source: "Don Quijote de la Mancha", Year: 1605, Tags: []string{"writing"}, Lang: "es"},
		{Text: "Veni, vidi, vici.", Author: "Julius Caesar", Year: -47, Tags: []string{"war"}, Lang: "la"},
		{Text: "古池や蛙飛び込む水の音", Author: "Matsuo Bashō", Year: 1686, Tags: []string{"poetry", "nature"}, Lang: "ja"},
		{Text: Long, Author: "James Howell", Source: "Proverbs (one line repeated 92 times: a length test)", Year: 1659, Tags: []string{"test", "work"}, Lang: "en"},
		{Text: Script, Author: "Test Fixture", Source: "<Markup & “Escaping” Test>", Tags: []string{"test"}, Lang: "en"},
	}
}
