package xapi

import "strings"

// facts collects the identifiers of a statement tree (see Facts).
func facts(m map[string]any) Facts {
	var f Facts
	f.Verb = str(obj(m["verb"])["id"])
	ctx := obj(m["context"])
	f.Registration = strings.ToLower(str(ctx["registration"]))

	actor := obj(m["actor"])
	f.Agents = agentIFIs(f.Agents, actor)
	f.Subjects = agentIFIs(f.Subjects, actor)
	o := obj(m["object"])
	switch str(o["objectType"]) {
	case "Agent", "Group":
		f.Agents = agentIFIs(f.Agents, o)
	case "", "Activity":
		f.Activities = append(f.Activities, str(o["id"]))
	}
	f.RelatedAgents = append(f.RelatedAgents, f.Agents...)
	f.RelatedAgents = agentIFIs(f.RelatedAgents, obj(m["authority"]))
	f.RelatedActivities = append(f.RelatedActivities, f.Activities...)
	f.RelatedAgents, f.RelatedActivities = contextFacts(ctx, f.RelatedAgents, f.RelatedActivities)
	if str(o["objectType"]) == "SubStatement" {
		f.RelatedAgents = agentIFIs(f.RelatedAgents, obj(o["actor"]))
		so := obj(o["object"])
		switch str(so["objectType"]) {
		case "Agent", "Group":
			f.RelatedAgents = agentIFIs(f.RelatedAgents, so)
		case "", "Activity":
			f.RelatedActivities = append(f.RelatedActivities, str(so["id"]))
		}
		f.RelatedAgents, f.RelatedActivities = contextFacts(obj(o["context"]), f.RelatedAgents, f.RelatedActivities)
	}
	for _, p := range []*[]string{&f.Agents, &f.RelatedAgents, &f.Activities, &f.RelatedActivities, &f.Subjects} {
		*p = uniq(*p)
	}
	return f
}

// contextFacts appends the agents and activities of a context.
func contextFacts(ctx map[string]any, agents, activities []string) ([]string, []string) {
	if ctx == nil {
		return agents, activities
	}
	agents = agentIFIs(agents, obj(ctx["instructor"]))
	agents = agentIFIs(agents, obj(ctx["team"]))
	for _, x := range list(ctx["contextAgents"]) {
		agents = agentIFIs(agents, obj(obj(x)["agent"]))
	}
	for _, x := range list(ctx["contextGroups"]) {
		agents = agentIFIs(agents, obj(obj(x)["group"]))
	}
	for _, k := range []string{"parent", "grouping", "category", "other"} {
		for _, a := range list(obj(ctx["contextActivities"])[k]) {
			activities = append(activities, str(obj(a)["id"]))
		}
	}
	return agents, activities
}
