package anonymize

// FirstNames is the built-in list of Indian first names used by
// fake_first_name and fake_name, and by the scanner to recognise name
// columns from their values.
var FirstNames = []string{
	"Aarav", "Vivaan", "Aditya", "Vihaan", "Arjun", "Sai", "Reyansh", "Ayaan", "Krishna", "Ishaan",
	"Shaurya", "Atharv", "Advik", "Pranav", "Rohan", "Rahul", "Amit", "Suresh", "Ramesh", "Vikram",
	"Karthik", "Manoj", "Sanjay", "Deepak", "Rajesh", "Anil", "Sunil", "Harish", "Naveen", "Gaurav",
	"Ananya", "Diya", "Aadhya", "Saanvi", "Pari", "Anika", "Navya", "Myra", "Sara", "Ira",
	"Priya", "Pooja", "Neha", "Kavya", "Sneha", "Divya", "Lakshmi", "Meera", "Asha", "Sunita",
	"Anjali", "Shruti", "Nisha", "Ritu", "Swati", "Deepika", "Aishwarya", "Keerthi", "Fatima", "Zoya",
	"Imran", "Farhan", "Harpreet", "Gurpreet", "Simran", "Jaspreet", "Arnav", "Kabir", "Tanvi", "Bhavna",
}

// LastNames is the built-in list of Indian family names.
var LastNames = []string{
	"Sharma", "Verma", "Gupta", "Singh", "Kumar", "Patel", "Shah", "Mehta", "Desai", "Joshi",
	"Reddy", "Rao", "Naidu", "Iyer", "Iyengar", "Nair", "Menon", "Pillai", "Krishnan", "Subramanian",
	"Chatterjee", "Banerjee", "Mukherjee", "Das", "Bose", "Ghosh", "Sen", "Dutta", "Roy", "Chakraborty",
	"Khan", "Ansari", "Qureshi", "Sheikh", "Gill", "Sandhu", "Dhillon", "Kaur", "Agarwal", "Jain",
	"Yadav", "Mishra", "Pandey", "Tiwari", "Chauhan", "Thakur", "Kulkarni", "Patil", "Deshpande", "Bhat",
}

// Cities is the built-in list of Indian cities used by fake_city and
// fake_address.
var Cities = []string{
	"Mumbai", "Delhi", "Bengaluru", "Hyderabad", "Ahmedabad", "Chennai", "Kolkata", "Pune", "Jaipur", "Surat",
	"Lucknow", "Kanpur", "Nagpur", "Indore", "Thane", "Bhopal", "Visakhapatnam", "Patna", "Vadodara", "Ghaziabad",
	"Ludhiana", "Agra", "Nashik", "Faridabad", "Meerut", "Rajkot", "Varanasi", "Srinagar", "Aurangabad", "Dhanbad",
	"Amritsar", "Ranchi", "Coimbatore", "Kochi", "Guwahati", "Chandigarh", "Mysuru", "Thiruvananthapuram", "Bhubaneswar", "Dehradun",
}

var streets = []string{
	"MG Road", "Station Road", "Gandhi Nagar", "Nehru Street", "Temple Road", "Lake View Road", "Market Road",
	"Church Street", "Park Street", "Ring Road", "Main Road", "Shivaji Marg", "Tilak Road", "Ambedkar Road",
}

var localities = []string{
	"Sector 12", "Civil Lines", "Model Town", "Rajaji Nagar", "Banjara Hills", "Salt Lake", "Koramangala",
	"Andheri East", "Kothrud", "Anna Nagar", "Vaishali Nagar", "Gomti Nagar", "Navrangpura", "Hazratganj",
}
